// Generated from openapi.yaml by openapi-typescript: do not edit. After changing
// openapi.yaml, run `npm run api-types` in web/ to write this file again;
// `npm run typecheck` fails while it differs from a fresh generation.

export interface paths {
    "/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log in with e-mail and password
         * @description The e-mail is trimmed and compared case-insensitively. An unknown e-mail and a wrong
         *     password get the same answer after the same work.
         *
         *     **Locks.** Failed logins are counted per account and client address: five
         *     consecutive failures for an account from one address lock that account for that
         *     address for 15 minutes (even the right password from there then gets 429); a
         *     success from there resets the count. Other addresses are not locked by them.
         *     Besides, an account has a ceiling of 100 failed logins an hour, from any address:
         *     past it, only logins from a known device of the account (below) are tried, the
         *     others get 429 until the hour's count falls under the ceiling.
         *
         *     **Known devices.** A successful login answers a `device_token`, which marks the
         *     browser (or program) as a device that logged in to this account successfully. The
         *     client keeps it per e-mail and sends it as `device_token` with later logins for
         *     that e-mail. It is not a session and grants nothing by itself: it only lets its
         *     holder past the account-wide ceiling. A token that is unknown, expired or of another
         *     account is ignored (the login goes on as from an unknown device).
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/login/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The second step of a login with two-step verification on
         * @description When the account has two-step verification on, `POST /login` answers an
         *     `MfaChallenge` (no session yet). Its `mfa_token`, with a code, gets the ordinary
         *     login answer here. The code is either the 6 digits the authenticator app shows now
         *     (RFC 6238: 30 seconds, SHA-1; the previous and next 30 seconds are accepted too), or
         *     one of the account's unused recovery codes (case, spaces and dashes ignored).
         *
         *     A code of the app is accepted once: the same code, or an earlier one, is refused
         *     afterwards (401 `invalid_code`). A recovery code is spent by its use. The
         *     `mfa_token` lives 5 minutes and is spent by the successful answer; a wrong code does
         *     not spend it. Wrong codes count as failed logins of the account from this client
         *     address, under the same locks as `POST /login` (429 `account_locked`).
         */
        post: operations["loginMfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End the session of the bearer token
         * @description The token stops working at once. The request body is ignored.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ask for a password-reset link by e-mail
         * @description Answers 202 whether or not the account exists. For an existing account a one-time
         *     link `<PORTAL_URL>/password-reset?token=<token>`, valid 30 minutes, is mailed to the
         *     account's address; at most 3 such mails per account per hour (further requests still
         *     answer 202).
         */
        post: operations["requestPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/password-reset/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password with the mailed token
         * @description Replaces the password, revokes every session of the account, clears the lock and
         *     spends the token. The new password (OWASP ASVS level 2) must have 12 to 128
         *     characters, differ from the account's e-mail and not be a common or easily guessed
         *     password, which a strength estimator refuses (422 `weak_password` otherwise, its
         *     `detail` saying which rule; the token is not spent then).
         */
        post: operations["confirmPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The caller's subscriptions and licenses
         * @description Only the caller's serials, ordered by system, then version newest first, then
         *     serial. With `group_by` the serials come in groups ordered by key (versions as
         *     numbers); grouped by `billing_period`, licenses come last under a `null` key.
         */
        get: operations["listSubscriptions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{serial}/upgrade": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upgrade a subscription to the new version, at no extra cost
         * @description Accepting the current terms generates a new serial for the new version with the
         *     same billing period; the old serial becomes `superseded`, usable until its next
         *     validation date (`valid_until`), then `inactive`. The customer is mailed the new
         *     serial. Asking again for a serial already upgraded answers 200 with the same body
         *     (no new serial, no new mail); concurrent requests make exactly one new serial.
         */
        post: operations["upgradeSerial"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{serial}/license-file": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The offline activation file of one installation of a serial
         * @description For a machine that cannot reach the vendor: the customer types the installation
         *     code the desktop program shows (in its activation assistant, "Solicitar clave de
         *     confirmación") and gets the same signed document a validation answers
         *     (`Validation.license`), naming that installation, to save as `file_name` and load
         *     in the program ("Activar con archivo"), which verifies it offline with the keys of
         *     `GET /.well-known/jwks.json`. Only for the caller's serials that may run: `active`
         *     (a license too) or `superseded` (until its `valid_until`). Each call signs a new
         *     file; nothing is stored.
         *
         *     The checks, in order: the serial's syntax (400, before any store read), the
         *     session (401), the `installation` field (400), ownership (404 for a serial that is
         *     not the caller's, never 403), then the status (409).
         */
        post: operations["issueLicenseFile"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/serials/{serial}/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Activate or validate a serial (the installed desktop program)
         * @description No bearer token: the serial and the account's company name are the credentials. The
         *     company is compared ignoring case, accents, punctuation and repeated spaces. The
         *     first successful validation of a never-activated serial sets `activated_on` to
         *     today. An inactive serial answers 200 with `"status": "inactive"`: the program must
         *     stop.
         *
         *     **Signed answers.** Every 200 carries `license`, the answer's facts signed by the
         *     vendor (a compact JWS, EdDSA over Ed25519), so the program can trust an answer that
         *     came through anyone and keep it for offline use until its `exp`. It verifies the
         *     signature with the key of the header's `kid` in `GET /.well-known/jwks.json`
         *     (accepting `alg` `EdDSA` only), then checks `iss`, `exp` and that `serial` is its
         *     own. The program may send a `nonce` (1 to 64 characters, fresh for each call): the
         *     answer echoes it, in `nonce` and inside the license, so a replayed older answer
         *     (another nonce) is told apart. See `Validation.license`.
         *
         *     **Attempts.** Company mismatches (403) are counted per serial and client address
         *     in each clock hour: after 10 of them in one hour, that address gets 429
         *     `too_many_attempts` for that serial, whatever the company (the right one too),
         *     until the hour is over (`Retry-After`). Other addresses, and other serials from
         *     that address, are unaffected.
         */
        post: operations["validateSerial"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The public keys that verify the licenses of validation answers
         * @description A JSON Web Key Set (RFC 7517) of Ed25519 public keys (RFC 8037): the key that signs
         *     now and the retired ones whose signed answers may not have expired yet, each named
         *     by the `kid` a license's JWS header carries. Publicly, this is
         *     `<page origin>/api/.well-known/jwks.json` (see Servers). No bearer token. Served
         *     by the `validate-serial` function; other methods answer 405 with `Allow: GET`
         *     (`components.responses.MethodNotAllowed`), as on every path. A program should
         *     fetch the set again when a license names a `kid` it does not have.
         */
        get: operations["getJwks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the password, knowing the current one
         * @description The current password is checked as a login checks it: a wrong one is 401
         *     `invalid_credentials` and counts as a failed login of the account from this client
         *     address (five in a row lock it, 429 `account_locked`; past the account's 100 failures
         *     an hour only a session made from a known device may try). The new password follows the
         *     rules of `POST /password-reset/confirm` and must differ from the current one. On
         *     success every other session of the account ends (the caller's stays), and the
         *     account's address gets a mail saying that the password changed.
         */
        post: operations["changePassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The account's open sessions
         * @description Every session of the account that still works, newest first; `current` marks the
         *     caller's. No token or token digest is ever part of the answer: `id` only names the
         *     session for `DELETE /sessions/{id}`.
         */
        get: operations["listSessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End one of the account's sessions
         * @description The session stops working at once. Ending the caller's own session (`current`) is a
         *     logout. An `id` that names no open session of the caller's account is 404
         *     `not_found` (another account's sessions are never found). The request body is
         *     ignored.
         */
        delete: operations["endSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start turning two-step verification on
         * @description A new TOTP secret (RFC 6238: 30 seconds, 6 digits, SHA-1) for the authenticator
         *     app, as base32 and as an `otpauth://` URI to show as a QR code. Two-step
         *     verification is not on yet: `POST /mfa/totp/confirm` with a first code turns it
         *     on. Asking again before confirming replaces the secret (the earlier one is
         *     forgotten). The secret is never answered again once confirmed. The request body is
         *     ignored.
         */
        post: operations["startTotp"];
        /**
         * Turn two-step verification off
         * @description Needs a code: the app's current one, or an unused recovery code (which is spent).
         *     The secret and the recovery codes are deleted, and the owner is told by mail.
         *     Wrong codes count as failed logins (429 `account_locked` after five in a row from
         *     one address; past the account's 100 failures an hour only a session made from a
         *     known device may try).
         */
        delete: operations["disableTotp"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/mfa/totp/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Turn two-step verification on with a first code
         * @description The app's current code for the secret of `POST /mfa/totp` turns two-step
         *     verification on, and the answer holds ten recovery codes, each good for one login
         *     (or for turning two-step verification off) without the app. They are shown this
         *     once: the portal keeps only their digests. From now on `POST /login` asks for a
         *     code (`MfaChallenge`), and the owner is told by mail. Wrong codes count as failed
         *     logins (429 `account_locked` after five in a row from one address; past the
         *     account's 100 failures an hour only a session made from a known device may try).
         */
        post: operations["confirmTotp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/email-change": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ask to change the account's e-mail
         * @description The password is checked as a login checks it (a wrong one is 401
         *     `invalid_credentials`, counted as a failed login). Then a link
         *     `<PORTAL_URL>/email-change?token=<token>`, valid 60 minutes and good once, is
         *     mailed to the new address, and a notice to the current one. Nothing changes until
         *     the link is confirmed (`POST /email-change/confirm`); a newer request makes the
         *     earlier link useless. The answer says nothing about whether the new address
         *     belongs to another account: that is told only at the confirmation, to the holder
         *     of the new address's mailbox.
         */
        post: operations["requestEmailChange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/email-change/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm the new e-mail with the mailed token
         * @description Bearer of the same account (the page asks to log in first if needed). The
         *     account's e-mail becomes the new one: from now on the login takes the new address
         *     and the old one logs in nowhere. The account keeps its serials, its password and
         *     its two-step verification; every one of its sessions ends, the caller's too (log in
         *     again with the new address). The token is spent.
         */
        post: operations["confirmEmailChange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description An RFC 9457 problem with the portal's stable `code`. Never holds internals. */
        Problem: {
            /** @description `https://serial-portal.dev/problems/<code with dashes>` */
            type: string;
            title: string;
            status: number;
            /** @description A sentence for people. */
            detail: string;
            /** @enum {string} */
            code: "invalid_request" | "payload_too_large" | "unsupported_media_type" | "method_not_allowed" | "not_found" | "invalid_token" | "invalid_credentials" | "invalid_code" | "unauthorized" | "company_mismatch" | "no_upgrade_available" | "purchase_required" | "subscription_expired" | "not_active" | "mfa_already_enabled" | "mfa_not_enabled" | "mfa_not_started" | "email_taken" | "terms_not_accepted" | "weak_password" | "account_locked" | "too_many_attempts" | "unavailable" | "internal_error";
            /** @description With `terms_not_accepted`: the version of the current terms. */
            terms_version?: string;
        };
        LoginRequest: {
            /** @example cliente@example.com */
            email: string;
            /** @example Contrasena-2026 */
            password: string;
            /**
             * @description Optional: the `device_token` of an earlier successful login for this e-mail, kept
             *     by the client. Lets the login past the account-wide ceiling of failures; an
             *     unknown, expired or other account's token is ignored.
             */
            device_token?: string;
        };
        LoginResponse: {
            /** @description The account id, a dot, then 256 random bits in base64url: the account lets the session and its account be read together. Opaque to clients. */
            token: string;
            /** @constant */
            token_type: "Bearer";
            /**
             * Format: date-time
             * @description The session's latest end; 30 minutes without use end it sooner.
             */
            expires_at: string;
            /**
             * @description Marks this client as a known device of the account: keep it per e-mail and send it
             *     as `device_token` with later logins for that e-mail. Not a session: it grants
             *     nothing by itself, and losing it only matters while the account is under attack.
             */
            device_token: string;
            account: {
                email: string;
                name: string;
                company: string;
            };
        };
        /** @description `POST /login`'s answer for an account with two-step verification on: the password was right, a code is still needed (`POST /login/mfa`). No session yet. */
        MfaChallenge: {
            /** @constant */
            mfa_required: true;
            /** @description The account id, a dot, then 256 random bits in base64url; good for one successful `POST /login/mfa`. Opaque to clients. */
            mfa_token: string;
            /**
             * Format: date-time
             * @description The token's end (5 minutes after the login).
             */
            expires_at: string;
        };
        LoginMfaRequest: {
            /** @description The `mfa_token` of `POST /login`'s `MfaChallenge`. */
            mfa_token: string;
            /**
             * @description The 6 digits of the authenticator app, or an unused recovery code (`XXXX-XXXX-XXXX`; case, spaces and dashes ignored).
             * @example 123456
             * @example 7KQ2-M9XD-4HRT
             */
            code: string;
        };
        PasswordChangeRequest: {
            current_password: string;
            /**
             * @description 12 to 128 characters, not the e-mail, not the current password, not a common or
             *     easily guessed password; one that breaks a rule, a too short one included, is
             *     422 `weak_password`, not 400.
             */
            new_password: string;
        };
        SessionList: {
            sessions: components["schemas"]["SessionInfo"][];
        };
        SessionInfo: {
            /** @description Names the session for `DELETE /sessions/{id}`; not its token. */
            id: string;
            /**
             * Format: date-time
             * @description The login that made it.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description Its latest authenticated call (updated after the call, so the caller's own may lag by one call).
             */
            last_used_at: string;
            /** @description The client address of the login (empty if unknown). */
            source_ip: string;
            /** @description The browser or program of the login (empty if unknown). */
            user_agent: string;
            /** @description `true` for the session of the bearer token of this call. */
            current: boolean;
        };
        TotpEnrolment: {
            /** @description The TOTP secret, 160 bits in base32 (RFC 4648, no padding), for typing into an app by hand. */
            secret: string;
            /** @description `otpauth://totp/<issuer>:<e-mail>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30`, for the QR code. */
            otpauth_uri: string;
        };
        TotpCodeRequest: {
            /**
             * @description The 6 digits the app shows now (`DELETE /mfa/totp` also takes an unused recovery code).
             * @example 123456
             */
            code: string;
        };
        RecoveryCodes: {
            /** @description Ten codes `XXXX-XXXX-XXXX` (the serials' alphabet: digits and upper-case letters without I, L, O, U), each good once. Shown only in this answer. */
            recovery_codes: string[];
        };
        EmailChangeRequest: {
            /** @example nueva@example.com */
            new_email: string;
            /** @description The account's current password. */
            password: string;
        };
        EmailChangeConfirmRequest: {
            /** @description The token of the mailed link. */
            token: string;
        };
        PasswordResetRequest: {
            /** @example cliente@example.com */
            email: string;
        };
        PasswordResetConfirmRequest: {
            /** @description The token of the mailed link. */
            token: string;
            /**
             * @description 12 to 128 characters, not the e-mail, not a common or easily guessed password.
             *     A password that breaks one of these rules, a too short one included, is 422
             *     `weak_password`, not 400.
             */
            new_password: string;
        };
        Accepted: {
            /** @constant */
            status: "accepted";
        };
        UpgradeRequest: {
            /** @description Must be `true`. */
            accept_terms: boolean;
            /**
             * @description The version of the terms shown with the offer (`upgrade.terms.version`).
             * @example 2022-10
             */
            terms_version: string;
        };
        ValidateRequest: {
            /**
             * @description The company name (razón social) registered on the account.
             * @example Comercial Ruiz SA de CV
             */
            company: string;
            /**
             * @description Optional, 1 to 64 characters chosen by the program, fresh for each call: echoed
             *     back in `nonce` and inside the signed `license`, so that the program can tell
             *     the answer to this call from a replayed older one.
             * @example 4f1c2a9e-7b3d-4e21-9a57-0c6d2b8e1f30
             */
            nonce?: string;
        };
        LicenseFileRequest: {
            /**
             * @description The installation code the desktop program shows, as typed: leading and trailing
             *     spaces are dropped, and what is left must be 1 to 128 characters (counted as
             *     characters, not bytes) without control characters (line breaks, tabs). Kept in
             *     the file's `installation` claim as trimmed.
             * @example INST-7F3A-22C9
             */
            installation: string;
        };
        /** @enum {string} */
        Plan: "subscription" | "license";
        /**
         * @description `active`: license, or subscription paid up (`next_payment_on >= today`). `expired`:
         *     subscription not renewed. `superseded`: upgraded, usable until `valid_until`.
         *     `inactive`: upgraded and past `valid_until`.
         * @enum {string}
         */
        SerialStatus: "active" | "expired" | "superseded" | "inactive";
        /** @description A serial as its owner sees it, of either plan (a subscription or a license). */
        Subscription: {
            /** @example SKSNWR4TQD */
            serial: string;
            /** @example SAE */
            system: string;
            /** @example Aspel SAE */
            system_name: string;
            /** @example 7.0 */
            version: string;
            users: number;
            plan: components["schemas"]["Plan"];
            /**
             * @description `null` for licenses.
             * @enum {string|null}
             */
            billing_period: "monthly" | "semiannual" | "annual" | null;
            /**
             * Format: date
             * @description `null` until the desktop program first validates the serial.
             */
            activated_on: string | null;
            /** Format: date */
            next_payment_on: string | null;
            status: components["schemas"]["SerialStatus"];
            /**
             * Format: date
             * @description Of an upgraded serial, its last day of use.
             */
            valid_until: string | null;
            /** @description The serial this one replaced. */
            upgraded_from: string | null;
            /** @description The serial that replaced this one. */
            superseded_by: string | null;
            upgrade: components["schemas"]["UpgradeAvailable"] | components["schemas"]["UpgradeUnavailable"];
        };
        UpgradeAvailable: {
            /** @constant */
            available: true;
            /** @example 8.0 */
            to_version: string;
            terms: components["schemas"]["Terms"];
        };
        UpgradeUnavailable: {
            /** @constant */
            available: false;
            /** @enum {string} */
            reason: "latest_version" | "purchase_required" | "expired" | "superseded" | "inactive";
        };
        Terms: {
            /** @example 2022-10 */
            version: string;
            text: string;
        };
        SubscriptionList: {
            subscriptions: components["schemas"]["Subscription"][];
        };
        GroupedSubscriptionList: {
            groups: {
                /** @description The column's value; `null` for licenses grouped by `billing_period`. */
                key: string | null;
                subscriptions: components["schemas"]["Subscription"][];
            }[];
        };
        UpgradeResponse: {
            /** @description The new serial. */
            subscription: components["schemas"]["Subscription"];
            /** @description The old serial, now superseded. */
            previous: components["schemas"]["Subscription"];
        };
        Validation: {
            serial: string;
            system: string;
            version: string;
            users: number;
            status: components["schemas"]["SerialStatus"];
            /** Format: date */
            valid_until: string | null;
            /** Format: date */
            activated_on: string | null;
            /**
             * Format: date
             * @description The subscription's next payment; `null` for licenses.
             */
            next_payment_on: string | null;
            /**
             * Format: date-time
             * @description When the answer was made (UTC); the license's `iat`.
             */
            issued_at: string;
            /** @description The request's `nonce`, as sent; `null` when it sent none. */
            nonce: string | null;
            /**
             * @description The answer signed: a JWS (RFC 7515) in compact serialization,
             *     `<header>.<payload>.<signature>`, each part base64url without padding. Signed
             *     with EdDSA over Ed25519 (RFC 8037): the header names `"alg": "EdDSA"` and the
             *     `kid` of the signing key, whose public key `GET /.well-known/jwks.json`
             *     publishes. The payload (a JWT claims set) is a JSON object of:
             *     - `iss`: `"serial-portal"`;
             *     - `serial`, `system`, `version`, `users`, `status`, `valid_until`,
             *       `next_payment_on`: as in this answer (dates `YYYY-MM-DD` or `null`);
             *     - `company`: the company name as registered on the account (not as sent);
             *     - `nonce`: the request's `nonce`, or `null`;
             *     - `iat`: when it was made (`issued_at`), in seconds since 1970-01-01T00:00:00Z;
             *     - `exp`: in the same seconds, when the program must validate again: the end of
             *       the serial's next validation day (an active subscription's `next_payment_on`,
             *       a superseded serial's `valid_until`) in the vendor's time zone
             *       (`TIME_ZONE`), at most 30 days after `iat` (a license: those 30 days); for
             *       an expired or inactive serial, one day after `iat`.
             *     A verifier ignores claims it does not know.
             */
            license: string;
        };
        LicenseFile: {
            /**
             * @description `<serial>.lic`: the name to save `license` under (a legacy serial keeps its dashes).
             * @example SKSNWR4TQD.lic
             */
            file_name: string;
            /**
             * @description The file's content, exactly: a JWS in compact serialization, signed as
             *     `Validation.license` is (EdDSA over Ed25519, the header's `kid` a key of
             *     `GET /.well-known/jwks.json`), whose payload holds the same claims as a
             *     validation answer's (`iss`, `serial`, `system`, `version`, `users`, `status`,
             *     `valid_until`, `next_payment_on`, `company` as registered, `iat`, `exp`), with
             *     `nonce` `null` and, besides, `installation`: the request's `installation`,
             *     trimmed. The program accepts the file only if `installation` is its own and
             *     `exp` has not passed; `exp` is computed as for a validation answer (the end of
             *     the serial's next validation day in the vendor's time zone, at most 30 days
             *     after `iat`).
             */
            license: string;
            /**
             * Format: date
             * @description The last day the file stands, in the vendor's time zone (`TIME_ZONE`): the day
             *     of the last second before the license's `exp`, i.e. the serial's next
             *     validation date (`next_payment_on`, or `valid_until` once superseded), or the
             *     30th day from now for a license or a later payment.
             */
            expires_on: string;
        };
        /** @description A JSON Web Key Set (RFC 7517) of the keys that sign licenses. */
        Jwks: {
            keys: components["schemas"]["Jwk"][];
        };
        /** @description An Ed25519 public key as a JWK (RFC 7517, RFC 8037). */
        Jwk: {
            /** @constant */
            kty: "OKP";
            /** @constant */
            crv: "Ed25519";
            /** @description The 32-byte public key, base64url without padding. */
            x: string;
            /** @description The key's id, as in the JWS header of the licenses it signs. */
            kid: string;
            /** @constant */
            use?: "sig";
            /** @constant */
            alg?: "EdDSA";
        };
    };
    responses: {
        /** @description `invalid_request`: the body is not a JSON object, misses a field or has a wrong type; `detail` names the field. */
        InvalidRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 400;
                    /** @enum {unknown} */
                    code?: "invalid_request";
                };
            };
        };
        /** @description `unauthorized`: the bearer token is missing, unknown, expired (30 minutes unused, or past `expires_at`) or revoked. */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 401;
                    /** @enum {unknown} */
                    code?: "unauthorized";
                };
            };
        };
        /** @description `not_found`: no serial with that number belongs to the caller (never 403: no enumeration), or the path is not a route. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 404;
                    /** @enum {unknown} */
                    code?: "not_found";
                };
            };
        };
        /** @description `method_not_allowed`: the path is served, not with this method. */
        MethodNotAllowed: {
            headers: {
                /** @description The method the path answers. */
                Allow: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 405;
                    /** @enum {unknown} */
                    code?: "method_not_allowed";
                };
            };
        };
        /** @description A CORS preflight (`OPTIONS` on any path): no body. */
        Preflight: {
            headers: {
                [name: string]: unknown;
            };
            content?: never;
        };
        /** @description `payload_too_large`: the body is over 16 KiB. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 413;
                    /** @enum {unknown} */
                    code?: "payload_too_large";
                };
            };
        };
        /** @description `unsupported_media_type`: the body is not empty and its `Content-Type` is missing or not `application/json` (with or without `; charset=...`). */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 415;
                    /** @enum {unknown} */
                    code?: "unsupported_media_type";
                };
            };
        };
        /**
         * @description `account_locked`: too many failed logins for this account from this device or
         *     network: 5 consecutive ones from this client address (locked for 15 minutes from the
         *     last one), or the account's 100 an hour from anywhere, which only a known
         *     `device_token` passes (on the account's routes: a session made from a known
         *     device). Never says whether the password was right.
         */
        AccountLocked: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 429;
                    /** @enum {unknown} */
                    code?: "account_locked";
                };
            };
        };
        /**
         * @description `too_many_attempts`: 10 company mismatches for this serial from this client address
         *     in the current clock hour; every validation of this serial from this address, with
         *     any company, gets this answer until the hour is over (`Retry-After`: the seconds
         *     left of it). Other addresses are unaffected.
         */
        TooManyAttempts: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 429;
                    /** @enum {unknown} */
                    code?: "too_many_attempts";
                };
            };
        };
        /** @description `invalid_code`: the code is wrong, not the current one, already used, or a spent recovery code. Counted as a failed login. */
        InvalidCode: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 401;
                    /** @enum {unknown} */
                    code?: "invalid_code";
                };
            };
        };
        /**
         * @description `unauthorized`: the bearer token is missing, unknown, expired or revoked.
         *     `invalid_code`: the code is wrong, not the current one, already used, or a spent
         *     recovery code (counted as a failed login).
         */
        UnauthorizedOrInvalidCode: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 401;
                    /** @enum {unknown} */
                    code?: "unauthorized" | "invalid_code";
                };
            };
        };
        /** @description `internal_error`: an unexpected failure; the details go to the log only. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 500;
                    /** @enum {unknown} */
                    code?: "internal_error";
                };
            };
        };
        /** @description `unavailable`: the store, the mail service or the signing keys (Secrets Manager) failed after retries. */
        Unavailable: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 503;
                    /** @enum {unknown} */
                    code?: "unavailable";
                };
            };
        };
    };
    parameters: {
        /**
         * @description An electronic serial number: 10 characters of `0-9A-Z` without I, L, O and U, the
         *     last a check character. Accepted case-insensitively, spaces and dashes ignored.
         *     Where the vendor declares its older system's format (`LEGACY_SERIAL_PATTERN`), a
         *     serial of that format is accepted too (letters, digits and dashes, at most 64,
         *     matched whole and ignoring case); one that fits neither is 400 before any store read.
         * @example SKSNWR4TQD
         */
        Serial: string;
    };
    requestBodies: never;
    headers: {
        /** @description Seconds to wait before trying again. */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /**
             * @description A new session (`LoginResponse`); or, for an account with two-step verification
             *     on, an `MfaChallenge`: the password was right, and `POST /login/mfa` with a code
             *     makes the session.
             */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginResponse"] | components["schemas"]["MfaChallenge"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            /** @description Unknown e-mail or wrong password (one answer for both). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 401;
                        /** @enum {unknown} */
                        code?: "invalid_credentials";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    loginMfa: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginMfaRequest"];
            };
        };
        responses: {
            /** @description A new session, as `POST /login` answers it without two-step verification. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginResponse"];
                };
            };
            /**
             * @description `invalid_request`: malformed body or field. `invalid_token`: the `mfa_token` is
             *     unknown, expired or already used; log in again with the password.
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request" | "invalid_token";
                    };
                };
            };
            401: components["responses"]["InvalidCode"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Logged out. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    requestPasswordReset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordResetRequest"];
            };
        };
        responses: {
            /** @description Accepted (says nothing about whether the account exists). */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    confirmPasswordReset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordResetConfirmRequest"];
            };
        };
        responses: {
            /** @description Password replaced. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description `invalid_request`: malformed body or field. `invalid_token`: the token is unknown,
             *     expired or already used.
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request" | "invalid_token";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description The new password is under 12 or over 128 characters, equals the e-mail, or is common or easily guessed; `detail` says which. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 422;
                        /** @enum {unknown} */
                        code?: "weak_password";
                    };
                };
            };
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listSubscriptions: {
        parameters: {
            query?: {
                /** @description Only serials of this plan. */
                plan?: "subscription" | "license";
                /** @description Group the serials by this column. */
                group_by?: "system" | "version" | "status" | "billing_period" | "plan";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The list, flat or grouped. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SubscriptionList"] | components["schemas"]["GroupedSubscriptionList"];
                };
            };
            /** @description `invalid_request`: an unknown `plan` or `group_by` value, or one given twice. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    upgradeSerial: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description An electronic serial number: 10 characters of `0-9A-Z` without I, L, O and U, the
                 *     last a check character. Accepted case-insensitively, spaces and dashes ignored.
                 *     Where the vendor declares its older system's format (`LEGACY_SERIAL_PATTERN`), a
                 *     serial of that format is accepted too (letters, digits and dashes, at most 64,
                 *     matched whole and ignoring case); one that fits neither is 400 before any store read.
                 * @example SKSNWR4TQD
                 */
                serial: components["parameters"]["Serial"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpgradeRequest"];
            };
        };
        responses: {
            /** @description Upgraded before (by this or a concurrent request): the same answer. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UpgradeResponse"];
                };
            };
            /** @description Upgraded now. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UpgradeResponse"];
                };
            };
            /** @description `invalid_request`: malformed body or field, or a serial that is not well formed (wrong length, character or check character). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /**
             * @description `no_upgrade_available`: already the latest version. `purchase_required`: a license.
             *     `subscription_expired`: not renewed. `not_active`: upgraded and past its last day.
             */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "no_upgrade_available" | "purchase_required" | "subscription_expired" | "not_active";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description `accept_terms` is not `true`, or `terms_version` is not the current terms (named in `terms_version`). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 422;
                        /** @enum {unknown} */
                        code?: "terms_not_accepted";
                    };
                };
            };
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    issueLicenseFile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description An electronic serial number: 10 characters of `0-9A-Z` without I, L, O and U, the
                 *     last a check character. Accepted case-insensitively, spaces and dashes ignored.
                 *     Where the vendor declares its older system's format (`LEGACY_SERIAL_PATTERN`), a
                 *     serial of that format is accepted too (letters, digits and dashes, at most 64,
                 *     matched whole and ignoring case); one that fits neither is 400 before any store read.
                 * @example SKSNWR4TQD
                 */
                serial: components["parameters"]["Serial"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LicenseFileRequest"];
            };
        };
        responses: {
            /** @description The file, signed now. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LicenseFile"];
                };
            };
            /** @description `invalid_request`: malformed body, an `installation` that is missing, empty or blank, over 128 characters or with a control character (`detail` names the field), or a serial that is not well formed (answered without reading the store). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /**
             * @description `subscription_expired`: a subscription not renewed. `not_active`: upgraded and
             *     past its last day (`valid_until`). Neither may run, so neither gets a file.
             */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "subscription_expired" | "not_active";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    validateSerial: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description An electronic serial number: 10 characters of `0-9A-Z` without I, L, O and U, the
                 *     last a check character. Accepted case-insensitively, spaces and dashes ignored.
                 *     Where the vendor declares its older system's format (`LEGACY_SERIAL_PATTERN`), a
                 *     serial of that format is accepted too (letters, digits and dashes, at most 64,
                 *     matched whole and ignoring case); one that fits neither is 400 before any store read.
                 * @example SKSNWR4TQD
                 */
                serial: components["parameters"]["Serial"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ValidateRequest"];
            };
        };
        responses: {
            /** @description The serial's state, and the same facts signed (`license`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Validation"];
                };
            };
            /** @description `invalid_request`: malformed body or field, or a serial that is not well formed (answered without reading the store). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
            /** @description The company does not match the account's. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 403;
                        /** @enum {unknown} */
                        code?: "company_mismatch";
                    };
                };
            };
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyAttempts"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    getJwks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key set. */
            200: {
                headers: {
                    /** @description The set may be kept 5 minutes, by anyone. */
                    "Cache-Control": "public, max-age=300";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Jwks"];
                };
            };
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    changePassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordChangeRequest"];
            };
        };
        responses: {
            /** @description Password changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidRequest"];
            /**
             * @description `unauthorized`: the bearer token is missing, unknown, expired or revoked.
             *     `invalid_credentials`: `current_password` is wrong.
             */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 401;
                        /** @enum {unknown} */
                        code?: "unauthorized" | "invalid_credentials";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description The new password is under 12 or over 128 characters, equals the e-mail or the current password, or is common or easily guessed; `detail` says which. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 422;
                        /** @enum {unknown} */
                        code?: "weak_password";
                    };
                };
            };
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listSessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The sessions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    endSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` of a session of `GET /sessions`. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session ended. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            /** @description `not_found`: no open session of the caller's account has this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 404;
                        /** @enum {unknown} */
                        code?: "not_found";
                    };
                };
            };
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    startTotp: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The secret to enrol. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TotpEnrolment"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description `mfa_already_enabled`: two-step verification is on already; turn it off first to enrol another app. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "mfa_already_enabled";
                    };
                };
            };
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    disableTotp: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TotpCodeRequest"];
            };
        };
        responses: {
            /** @description Two-step verification is off. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["UnauthorizedOrInvalidCode"];
            /** @description `mfa_not_enabled`: two-step verification is not on. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "mfa_not_enabled";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    confirmTotp: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TotpCodeRequest"];
            };
        };
        responses: {
            /** @description Two-step verification is on. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecoveryCodes"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["UnauthorizedOrInvalidCode"];
            /**
             * @description `mfa_already_enabled`: two-step verification is on already. `mfa_not_started`:
             *     no secret to confirm (call `POST /mfa/totp` first).
             */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "mfa_already_enabled" | "mfa_not_started";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    requestEmailChange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EmailChangeRequest"];
            };
        };
        responses: {
            /** @description The confirmation link is on its way to the new address. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            /** @description `invalid_request`: malformed body or field, `new_email` not an e-mail address, or the account's e-mail already. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
            /**
             * @description `unauthorized`: the bearer token is missing, unknown, expired or revoked.
             *     `invalid_credentials`: `password` is wrong.
             */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 401;
                        /** @enum {unknown} */
                        code?: "unauthorized" | "invalid_credentials";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["AccountLocked"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    confirmEmailChange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EmailChangeConfirmRequest"];
            };
        };
        responses: {
            /** @description The e-mail changed; every session of the account ended. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description `invalid_request`: malformed body or field. `invalid_token`: the token is unknown,
             *     expired, already used, replaced by a newer request, or not of the caller's account.
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 400;
                        /** @enum {unknown} */
                        code?: "invalid_request" | "invalid_token";
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description `email_taken`: the new address cannot be used for this account (it is in use). The token is not spent. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                        /** @enum {unknown} */
                        code?: "email_taken";
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
}
