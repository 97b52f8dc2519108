//! `GET /subscriptions`: the caller's subscriptions and licenses with their upgrade offers,
//! filtered by plan and grouped by a column.

use std::cmp::Ordering;

use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate, token_account};
use shared::catalog::CatalogCache;
use shared::config::Settings;
use shared::domain::{Plan, Version};
use shared::http::{json, Call, Function, Reply, Route};
use shared::startup::Base;
use shared::store::{CatalogReader, DynamoStore, Sessions, SubscriptionReader};
use shared::view::{list_order, SubscriptionView};

pub struct App<S> {
    store: S,
    settings: Settings,
    catalog: CatalogCache,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![Route::get("/subscriptions", |app, call| Box::pin(app.list(call)))]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let edge = base.settings.origin_verify_secret.clone();
        Function::new(App { store: base.store, settings: base.settings, catalog: CatalogCache::default() }, routes())
            .behind_edge(edge)
    }
}

/// The columns a list can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    System,
    Version,
    Status,
    BillingPeriod,
    Plan,
}

impl GroupBy {
    pub const ALLOWED: &'static str = "system, version, status, billing_period, plan";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "system" => GroupBy::System,
            "version" => GroupBy::Version,
            "status" => GroupBy::Status,
            "billing_period" => GroupBy::BillingPeriod,
            "plan" => GroupBy::Plan,
            _ => return None,
        })
    }

    fn key(self, item: &SubscriptionView) -> Option<String> {
        match self {
            GroupBy::System => Some(item.system.to_string()),
            GroupBy::Version => Some(item.version.clone()),
            GroupBy::Status => Some(item.status.as_str().to_string()),
            GroupBy::BillingPeriod => item.billing_period.map(|b| b.as_str().to_string()),
            GroupBy::Plan => Some(item.plan.as_str().to_string()),
        }
    }

    /// Groups are ordered by key (versions as numbers); licenses, which have no billing
    /// period, come last under a null key.
    fn order(self, a: &Option<String>, b: &Option<String>) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) if self == GroupBy::Version => match (Version::parse(a), Version::parse(b)) {
                (Ok(va), Ok(vb)) => va.cmp(&vb).then_with(|| a.cmp(b)),
                _ => a.cmp(b),
            },
            (Some(a), Some(b)) => a.cmp(b),
        }
    }
}

#[derive(Serialize)]
pub struct Group {
    key: Option<String>,
    subscriptions: Vec<SubscriptionView>,
}

/// The route's answer: a flat list, or groups.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Listing {
    Flat { subscriptions: Vec<SubscriptionView> },
    Grouped { groups: Vec<Group> },
}

/// Groups the caller's ordered items: the pure part of the route.
pub fn arrange(items: Vec<SubscriptionView>, group_by: Option<GroupBy>) -> Listing {
    let Some(group_by) = group_by else { return Listing::Flat { subscriptions: items } };
    let mut groups: Vec<Group> = Vec::new();
    for item in items {
        let key = group_by.key(&item);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.subscriptions.push(item),
            None => groups.push(Group { key, subscriptions: vec![item] }),
        }
    }
    groups.sort_by(|a, b| group_by.order(&a.key, &b.key));
    Listing::Grouped { groups }
}

impl<S: Sessions + SubscriptionReader + CatalogReader> App<S> {
    async fn list(&self, call: Call) -> Reply {
        // One round trip: the session check, the account's serials (the token names the
        // account) and, on first use, the catalog go out together; nothing is answered
        // until the session is confirmed.
        let account = token_account(&call)?;
        let (session, subs, catalog) = tokio::join!(
            authenticate(&self.store, &self.settings, &call, call.now),
            self.store.subscriptions(&account),
            self.catalog.get(&self.store)
        );
        session?;
        let plan = call.query("plan", Plan::parse, "subscription, license")?;
        let group_by = call.query("group_by", GroupBy::parse, GroupBy::ALLOWED)?;
        let mut subs = subs?;
        subs.retain(|s| plan.is_none_or(|p| s.plan == p));
        subs.sort_by(list_order);
        let catalog = catalog?;
        let today = self.settings.today(call.now);
        let items = subs.iter().map(|s| SubscriptionView::new(s, &catalog, today)).collect();
        json(StatusCode::OK, &arrange(items, group_by))
    }
}
