//! Reading attributes of one item, naming the item in every error: a malformed item is a
//! [`StoreError::Corrupt`] that says which item and which attribute, never a panic.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};

use super::Item;
use crate::domain::{AccountId, Email, Serial, SystemCode, Version};
use crate::store::StoreError;

pub(super) struct Attrs<'a> {
    item: &'a Item,
    key: String,
}

impl<'a> Attrs<'a> {
    pub(super) fn new(item: &'a Item) -> Self {
        let part = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map_or("?", |v| v.as_str());
        Attrs { item, key: format!("{}/{}", part("pk"), part("sk")) }
    }

    pub(super) fn corrupt(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt { key: self.key.clone(), reason: reason.into() }
    }

    pub(super) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    pub(super) fn str(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_str(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub(super) fn opt_num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => {
                v.parse().map(Some).map_err(|_| self.corrupt(format!("{name} is out of range")))
            }
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    pub(super) fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        self.opt_num(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub(super) fn opt_bool(&self, name: &str) -> Result<Option<bool>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(self.corrupt(format!("{name} is not a boolean"))),
        }
    }

    /// A string set; missing is empty (DynamoDB keeps no empty set).
    pub(super) fn str_set(&self, name: &str) -> Result<Vec<String>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
            Some(AttributeValue::Ss(v)) => Ok(v.clone()),
            Some(_) => Err(self.corrupt(format!("{name} is not a string set"))),
        }
    }

    pub(super) fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, StoreError> {
        self.opt_str(name)?
            .map(|v| v.parse::<NaiveDate>().map_err(|_| self.corrupt(format!("{name} is not a date"))))
            .transpose()
    }

    pub(super) fn opt_instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_str(name)?
            .map(|v| v.parse::<DateTime<Utc>>().map_err(|_| self.corrupt(format!("{name} is not an instant"))))
            .transpose()
    }

    pub(super) fn instant(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_instant(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub(super) fn opt_serial(&self, name: &str) -> Result<Option<Serial>, StoreError> {
        self.opt_str(name)?.map(|v| Serial::parse(v).map_err(|e| self.corrupt(format!("{name}: {e}")))).transpose()
    }

    pub(super) fn serial(&self, name: &str) -> Result<Serial, StoreError> {
        self.opt_serial(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub(super) fn account_id(&self, name: &str) -> Result<AccountId, StoreError> {
        AccountId::parse(self.str(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    pub(super) fn email(&self, name: &str) -> Result<Email, StoreError> {
        Email::parse(self.str(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    pub(super) fn system(&self, name: &str) -> Result<SystemCode, StoreError> {
        SystemCode::parse(self.str(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    pub(super) fn version(&self, name: &str) -> Result<Version, StoreError> {
        Version::parse(self.str(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    /// An instant stored as epoch seconds (the TTL attribute).
    pub(super) fn epoch(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        let secs: i64 = self.num(name)?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| self.corrupt(format!("{name} is out of range")))
    }
}
