//! The portal's e-mails, in Spanish, as text and HTML. Built in Rust (SES templates are
//! not needed, and bodies stay testable without a network). Every value that came from
//! data is HTML-escaped in the HTML part.

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::MailSettings;
use crate::domain::{Account, Product, Subscription};
use crate::outbox::PendingMail;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// dd/mm/aaaa, as customers in Mexico read dates.
pub fn fecha(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub(super) fn page(title: &str, body: &str, vendor: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"es-MX\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5;max-width:640px\">\n\
         {body}\n<p style=\"color:#52606d;font-size:13px\">{vendor}</p>\n</body></html>\n",
        title = escape_html(title),
        vendor = escape_html(vendor),
    )
}

/// The upgrade announcement: new serial, old serial's last day, how to activate.
pub fn upgrade_mail(
    settings: &MailSettings,
    holder_name: &str,
    company: &str,
    to: &str,
    product: &Product,
    previous: &Subscription,
    new: &Subscription,
) -> Mail {
    let system = &product.name;
    let subject = format!("Actualización de versión para tu sistema {system}");
    let last_day = previous.valid_until.map(fecha).unwrap_or_else(|| "tu próxima validación".into());
    let text = format!(
        "Estimado(a) {holder_name}:\n\n\
         Recibimos con éxito tu solicitud para actualizar la versión de tu sistema {system} en suscripción.\n\n\
         Sistema con actualización: {system} {old_version} a {new_version}\n\
         Número de serie nueva versión: {new_serial}\n\
         Número de serie anterior: {old_serial} (versión {old_version}), podrás usarlo solo hasta el {last_day}; \
         después quedará inactivo.\n\n\
         Descarga la versión {new_version} en el centro de descargas de {vendor}: {downloads}\n\
         Al activarla, el asistente de activación te pedirá la razón social registrada en tu cuenta: {company}.\n\n\
         Para activar tu sistema contacta a tu distribuidor, tu aliado de negocio, o llámanos al {phone}.\n\
         En caso de no tener un distribuidor asignado, encuéntralo aquí: {distributors}\n\n\
         {vendor}\n",
        old_version = previous.version,
        new_version = new.version,
        new_serial = new.serial,
        old_serial = previous.serial,
        vendor = settings.vendor_name,
        phone = settings.support_phone,
        distributors = settings.distributor_url,
        downloads = settings.download_url,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Actualización de versión para tu sistema {system}</h1>\n\
         <p>Estimado(a) {holder}:</p>\n\
         <p>Recibimos con éxito tu solicitud para actualizar la versión de tu sistema {system} en suscripción.</p>\n\
         <table role=\"presentation\" style=\"border-collapse:collapse\">\n\
         <tr><td style=\"padding:4px 12px 4px 0\">Sistema con actualización:</td><td><strong>{system} {old_version} a {new_version}</strong></td></tr>\n\
         <tr><td style=\"padding:4px 12px 4px 0\">Número de serie nueva versión:</td><td><strong style=\"font-family:monospace;font-size:18px\">{new_serial}</strong></td></tr>\n\
         <tr><td style=\"padding:4px 12px 4px 0\">Número de serie anterior:</td><td>{old_serial} (versión {old_version}), vigente solo hasta el <strong>{last_day}</strong></td></tr>\n\
         </table>\n\
         <p>Descarga la versión {new_version} en el <a href=\"{downloads}\">centro de descargas de {vendor}</a>. Al activarla, el asistente de \
         activación te pedirá la razón social registrada en tu cuenta: <strong>{company}</strong>.</p>\n\
         <p>Para activar tu sistema contacta a tu distribuidor, tu aliado de negocio, o llámanos al <strong>{phone}</strong>.</p>\n\
         <p>En caso de no tener un distribuidor asignado, <a href=\"{distributors}\">encuéntralo aquí</a>.</p>",
        system = e(system),
        holder = e(holder_name),
        old_version = e(previous.version.as_str()),
        new_version = e(new.version.as_str()),
        new_serial = e(new.serial.as_str()),
        old_serial = e(previous.serial.as_str()),
        last_day = e(&last_day),
        vendor = e(&settings.vendor_name),
        company = e(company),
        phone = e(&settings.support_phone),
        distributors = e(&settings.distributor_url),
        downloads = e(&settings.download_url),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// [`login_ceiling_mail`] as the outbox keeps it: one per account and clock hour (its id
/// says which), whichever function counted the failure that reached the limit.
pub fn login_ceiling_notice(settings: &MailSettings, account: &Account, now: DateTime<Utc>) -> PendingMail {
    let mail = login_ceiling_mail(settings, &account.name, account.email.as_str());
    PendingMail::new(format!("login-limit-{}-{}", account.id, now.format("%Y%m%d%H")), mail, now)
}

/// To the owner, once when the account-wide limit of failed logins is reached: someone is
/// guessing; known devices can still log in, and a reset ends it.
pub fn login_ceiling_mail(settings: &MailSettings, holder_name: &str, to: &str) -> Mail {
    let subject = format!("Intentos de acceso a tu cuenta de {}", settings.vendor_name);
    let reset = format!("{}/recuperar-contrasena", settings.portal_url);
    let text = format!(
        "Hola {holder_name}:\n\n\
         En la última hora hubo muchos intentos fallidos de entrar a tu cuenta. Por seguridad, por ahora solo \
         pueden entrar los equipos desde los que ya iniciaste sesión antes.\n\n\
         Si fuiste tú, no necesitas hacer nada. Si no, te recomendamos cambiar tu contraseña:\n\n{reset}\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Intentos de acceso a tu cuenta</h1>\n<p>Hola {holder}:</p>\n\
         <p>En la última hora hubo muchos intentos fallidos de entrar a tu cuenta. Por seguridad, por ahora solo pueden \
         entrar los equipos desde los que ya iniciaste sesión antes.</p>\n\
         <p>Si fuiste tú, no necesitas hacer nada. Si no, te recomendamos <a href=\"{reset}\">cambiar tu contraseña</a>.</p>",
        holder = e(holder_name),
        reset = e(&reset),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// The password recovery link, valid 30 minutes.
pub fn reset_mail(settings: &MailSettings, holder_name: &str, to: &str, token: &str) -> Mail {
    let link = format!("{}/password-reset?token={token}", settings.portal_url);
    let subject = format!("Restablece tu contraseña de {}", settings.vendor_name);
    let text = format!(
        "Hola {holder_name}:\n\n\
         Recibimos una solicitud para restablecer la contraseña de tu cuenta. Para elegir una nueva, abre este \
         enlace (vale 30 minutos y se usa una sola vez):\n\n{link}\n\n\
         Si no la pediste tú, ignora este correo: tu contraseña no cambia.\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Restablece tu contraseña</h1>\n<p>Hola {holder}:</p>\n\
         <p>Recibimos una solicitud para restablecer la contraseña de tu cuenta. El enlace vale 30 minutos y se usa una sola vez.</p>\n\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 16px;background:#0b5cad;color:#fff;text-decoration:none;border-radius:4px\">Elegir nueva contraseña</a></p>\n\
         <p style=\"font-size:13px\">Si el botón no funciona, copia este enlace en tu navegador:<br>{link}</p>\n\
         <p>Si no la pediste tú, ignora este correo: tu contraseña no cambia.</p>",
        holder = e(holder_name),
        link = e(&link),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// An imported account's invitation: a link to choose its first password, valid
/// `days` days and once (the reset page, `<PORTAL_URL>/password-reset?token=...`).
pub fn invitation_mail(settings: &MailSettings, holder_name: &str, to: &str, token: &str, days: i64) -> Mail {
    let link = format!("{}/password-reset?token={token}", settings.portal_url);
    let vendor = &settings.vendor_name;
    let subject = format!("Activa tu cuenta de {vendor}");
    let text = format!(
        "Hola {holder_name}:\n\n\
         Tus sistemas y números de serie de {vendor} ya están en tu nueva cuenta en línea. Para entrar, elige tu \
         contraseña con este enlace (vale {days} días y se usa una sola vez):\n\n{link}\n\n\
         Después entrarás con este correo ({to}) y la contraseña que elijas.\n\n\
         Si el enlace ya no funciona, pide uno nuevo en \"¿Olvidaste tu contraseña?\" con este mismo correo.\n\n\
         {vendor}\n",
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Activa tu cuenta</h1>\n<p>Hola {holder}:</p>\n\
         <p>Tus sistemas y números de serie de {vendor} ya están en tu nueva cuenta en línea. Para entrar, elige tu \
         contraseña. El enlace vale {days} días y se usa una sola vez.</p>\n\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 16px;background:#0b5cad;color:#fff;text-decoration:none;border-radius:4px\">Elegir mi contraseña</a></p>\n\
         <p style=\"font-size:13px\">Si el botón no funciona, copia este enlace en tu navegador:<br>{link}</p>\n\
         <p>Después entrarás con este correo ({to}) y la contraseña que elijas. Si el enlace ya no funciona, pide uno \
         nuevo en «¿Olvidaste tu contraseña?» con este mismo correo.</p>",
        holder = e(holder_name),
        vendor = e(vendor),
        link = e(&link),
        to = e(to),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, vendor) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BillingPeriod, Plan, Serial, Terms, Version};

    fn settings() -> MailSettings {
        MailSettings::local_example()
    }

    #[test]
    fn upgrade_mail_names_everything_the_customer_needs_and_escapes_data() {
        let product = Product {
            system: crate::domain::SystemCode::parse("SAE").unwrap(),
            name: "Aspel SAE".into(),
            latest_version: Version::parse("8.0").unwrap(),
            terms: Terms { version: "2022-10".into(), text: "t".into() },
        };
        let old = Subscription {
            serial: Serial::generate().unwrap(),
            account: crate::domain::AccountId::generate().unwrap(),
            system: crate::domain::SystemCode::parse("SAE").unwrap(),
            version: Version::parse("7.0").unwrap(),
            users: 1,
            plan: Plan::Subscription,
            billing_period: Some(BillingPeriod::Monthly),
            activated_on: None,
            next_payment_on: Some("2026-12-10".parse().unwrap()),
            valid_until: Some("2026-12-10".parse().unwrap()),
            upgraded_from: None,
            superseded_by: None,
        };
        let mut new = old.clone();
        new.serial = Serial::generate().unwrap();
        new.version = Version::parse("8.0").unwrap();
        let mail = upgrade_mail(&settings(), "Ana <Ruiz>", "Ruiz & Hijos", "ana@example.com", &product, &old, &new);
        assert_eq!(mail.subject, "Actualización de versión para tu sistema Aspel SAE");
        for part in [&mail.text, &mail.html] {
            assert!(part.contains(new.serial.as_str()));
            assert!(part.contains(old.serial.as_str()));
            assert!(part.contains("10/12/2026"));
            assert!(part.contains("8.0"));
            assert!(part.contains("800 277 3735"));
            assert!(part.contains("https://www.aspel.com.mx/distribuidores"));
            assert!(part.contains("https://www.aspel.com.mx/descargas"), "the download centre (term 5)");
        }
        assert!(mail.text.contains("Ana <Ruiz>"));
        assert!(mail.html.contains("Ana &lt;Ruiz&gt;") && !mail.html.contains("<Ruiz>"));
        assert!(mail.html.contains("Ruiz &amp; Hijos"));
    }

    #[test]
    fn invitation_mail_links_to_the_set_password_page_and_says_how_long_it_lasts() {
        let mail = invitation_mail(&settings(), "Ana <Ruiz>", "ana@example.com", "tok-456", 7);
        assert_eq!(mail.subject, "Activa tu cuenta de Aspel");
        assert!(mail.text.contains("http://127.0.0.1:5173/password-reset?token=tok-456"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:5173/password-reset?token=tok-456\""));
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("7 días") && part.contains("ana@example.com"));
        }
        assert!(mail.html.contains("Ana &lt;Ruiz&gt;") && !mail.html.contains("<Ruiz>"));
    }

    #[test]
    fn reset_mail_links_to_the_portal() {
        let mail = reset_mail(&settings(), "Ana", "ana@example.com", "tok-123");
        assert!(mail.text.contains("http://127.0.0.1:5173/password-reset?token=tok-123"));
        assert!(mail.html.contains("href=\"http://127.0.0.1:5173/password-reset?token=tok-123\""));
    }
}
