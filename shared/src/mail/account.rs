//! The mails of an account's own security, in Spanish: the password changed, two-step
//! verification turned on or off, and an e-mail change (the link to the new address, the
//! notice to the old one).

use super::compose::{escape_html, page, Mail};
use crate::config::MailSettings;

/// To the owner after a password change: if it was not them, the reset link ends it.
pub fn password_changed_mail(settings: &MailSettings, holder_name: &str, to: &str) -> Mail {
    let subject = format!("Tu contraseña de {} cambió", settings.vendor_name);
    let reset = format!("{}/recuperar-contrasena", settings.portal_url);
    let text = format!(
        "Hola {holder_name}:\n\n\
         La contraseña de tu cuenta acaba de cambiar, y se cerraron las demás sesiones abiertas.\n\n\
         Si fuiste tú, no necesitas hacer nada. Si no, restablece tu contraseña ahora:\n\n{reset}\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Tu contraseña cambió</h1>\n<p>Hola {holder}:</p>\n\
         <p>La contraseña de tu cuenta acaba de cambiar, y se cerraron las demás sesiones abiertas.</p>\n\
         <p>Si fuiste tú, no necesitas hacer nada. Si no, <a href=\"{reset}\">restablece tu contraseña</a> ahora.</p>",
        holder = e(holder_name),
        reset = e(&reset),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// To the owner when two-step verification is turned on or off: either is a change to how
/// the account is protected, and if it was not them the reset link ends the other's sessions.
pub fn two_step_mail(settings: &MailSettings, holder_name: &str, to: &str, turned_on: bool) -> Mail {
    let (subject, what) = if turned_on {
        (
            format!("Activaste la verificación en dos pasos en {}", settings.vendor_name),
            "La verificación en dos pasos de tu cuenta quedó activada: desde ahora, cada inicio de sesión \
             pide también un código de tu aplicación de autenticación. Guarda tus códigos de recuperación \
             en un lugar seguro.",
        )
    } else {
        (
            format!("Se desactivó la verificación en dos pasos en {}", settings.vendor_name),
            "La verificación en dos pasos de tu cuenta quedó desactivada: iniciar sesión vuelve a pedir \
             solo tu contraseña.",
        )
    };
    let reset = format!("{}/recuperar-contrasena", settings.portal_url);
    let text = format!(
        "Hola {holder_name}:\n\n{what}\n\n\
         Si fuiste tú, no necesitas hacer nada. Si no, restablece tu contraseña ahora:\n\n{reset}\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">{title}</h1>\n<p>Hola {holder}:</p>\n<p>{what}</p>\n\
         <p>Si fuiste tú, no necesitas hacer nada. Si no, <a href=\"{reset}\">restablece tu contraseña</a> ahora.</p>",
        title =
            if turned_on { "Verificación en dos pasos activada" } else { "Verificación en dos pasos desactivada" },
        holder = e(holder_name),
        reset = e(&reset),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// To the new address: the link that confirms it, valid `minutes`, used once.
pub fn email_change_link_mail(settings: &MailSettings, holder_name: &str, to: &str, token: &str, minutes: i64) -> Mail {
    let link = format!("{}/email-change?token={token}", settings.portal_url);
    let subject = format!("Confirma tu nuevo correo en {}", settings.vendor_name);
    let text = format!(
        "Hola {holder_name}:\n\n\
         Pediste usar esta dirección para entrar a tu cuenta. Para confirmarla, abre este enlace con tu sesión \
         iniciada (vale {minutes} minutos y se usa una sola vez):\n\n{link}\n\n\
         Al confirmarla se cierran todas las sesiones: entra de nuevo con esta dirección.\n\
         Si no lo pediste tú, ignora este correo.\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Confirma tu nuevo correo</h1>\n<p>Hola {holder}:</p>\n\
         <p>Pediste usar esta dirección para entrar a tu cuenta. Ábrelo con tu sesión iniciada; el enlace vale {minutes} minutos y se usa una sola vez.</p>\n\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 16px;background:#0b5cad;color:#fff;text-decoration:none;border-radius:4px\">Confirmar este correo</a></p>\n\
         <p style=\"font-size:13px\">Si el botón no funciona, copia este enlace en tu navegador:<br>{link}</p>\n\
         <p>Al confirmarla se cierran todas las sesiones: entra de nuevo con esta dirección. Si no lo pediste tú, ignora este correo.</p>",
        holder = e(holder_name),
        link = e(&link),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

/// To the current address: a change to `new_email` was asked for; nothing changes until
/// the new address confirms it.
pub fn email_change_notice_mail(settings: &MailSettings, holder_name: &str, to: &str, new_email: &str) -> Mail {
    let subject = format!("Solicitud de cambio de correo en {}", settings.vendor_name);
    let reset = format!("{}/recuperar-contrasena", settings.portal_url);
    let text = format!(
        "Hola {holder_name}:\n\n\
         Se pidió cambiar el correo de tu cuenta a {new_email}. Nada cambia hasta que esa dirección lo confirme.\n\n\
         Si no fuiste tú, alguien conoce tu contraseña: restablécela ahora y el cambio no se podrá confirmar:\n\n\
         {reset}\n\n{vendor}\n",
        vendor = settings.vendor_name,
    );
    let e = escape_html;
    let body = format!(
        "<h1 style=\"font-size:20px\">Solicitud de cambio de correo</h1>\n<p>Hola {holder}:</p>\n\
         <p>Se pidió cambiar el correo de tu cuenta a <strong>{new}</strong>. Nada cambia hasta que esa dirección lo confirme.</p>\n\
         <p>Si no fuiste tú, alguien conoce tu contraseña: <a href=\"{reset}\">restablécela ahora</a> y el cambio no se podrá confirmar.</p>",
        holder = e(holder_name),
        new = e(new_email),
        reset = e(&reset),
    );
    Mail { to: to.to_string(), subject: subject.clone(), text, html: page(&subject, &body, &settings.vendor_name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings::local_example()
    }

    #[test]
    fn the_password_mail_says_what_happened_and_how_to_undo_it() {
        let mail = password_changed_mail(&settings(), "Ana <R>", "ana@example.com");
        assert_eq!(mail.subject, "Tu contraseña de Aspel cambió");
        assert!(mail.text.contains("http://127.0.0.1:5173/recuperar-contrasena"));
        assert!(mail.html.contains("Ana &lt;R&gt;") && !mail.html.contains("<R>"));
    }

    #[test]
    fn the_two_step_mails_say_which_way_it_changed_and_how_to_undo_it() {
        let on = two_step_mail(&settings(), "Ana <R>", "ana@example.com", true);
        let off = two_step_mail(&settings(), "Ana <R>", "ana@example.com", false);
        assert_eq!(on.subject, "Activaste la verificación en dos pasos en Aspel");
        assert_eq!(off.subject, "Se desactivó la verificación en dos pasos en Aspel");
        assert!(on.text.contains("quedó activada") && off.text.contains("quedó desactivada"));
        for mail in [&on, &off] {
            assert_eq!(mail.to, "ana@example.com");
            assert!(
                mail.text.contains("Hola Ana <R>:") && mail.text.contains("http://127.0.0.1:5173/recuperar-contrasena")
            );
            assert!(mail.html.contains("Ana &lt;R&gt;") && !mail.html.contains("<R>"));
        }
    }

    #[test]
    fn the_link_goes_to_the_new_address_and_the_notice_names_it() {
        let link = email_change_link_mail(&settings(), "Ana", "nueva@example.com", "tok-1", 60);
        assert_eq!(link.to, "nueva@example.com");
        assert!(link.text.contains("http://127.0.0.1:5173/email-change?token=tok-1"));
        assert!(link.html.contains("href=\"http://127.0.0.1:5173/email-change?token=tok-1\""));
        assert!(link.text.contains("60 minutos"));
        let notice = email_change_notice_mail(&settings(), "Ana", "ana@example.com", "nueva@example.com");
        assert_eq!(notice.to, "ana@example.com");
        assert!(notice.text.contains("nueva@example.com") && !notice.text.contains("token"));
    }
}
