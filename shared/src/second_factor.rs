//! A code checked against an account's TOTP enrolment: the app's code of a step not used
//! yet, or one of the unused recovery codes. The login's second step and turning two-step
//! verification off both check codes this way; confirming an enrolment takes the app's
//! code only ([`accepted_step`] with no step used yet).

use chrono::{DateTime, Utc};

use crate::domain::totp::{accepted_step, SecondFactor, TotpSecret};
use crate::sealing::{DataKey, SealError};
use crate::store::{Proof, TotpEnrolment};

/// The enrolment's secret, opened with the data key (bound to its account).
pub fn open_secret(key: &DataKey, enrolment: &TotpEnrolment) -> Result<TotpSecret, SealError> {
    let bytes = key.open(&enrolment.sealed_secret, enrolment.account.as_str())?;
    TotpSecret::from_bytes(bytes).ok_or(SealError::Corrupt)
}

/// What `code` proves at `now`: `None` when it is wrong, already used or not a code.
pub fn prove(
    key: &DataKey,
    enrolment: &TotpEnrolment,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<Proof>, SealError> {
    Ok(match SecondFactor::parse(code) {
        Some(SecondFactor::Totp(digits)) => {
            let secret = open_secret(key, enrolment)?;
            accepted_step(&secret, &digits, now, enrolment.last_step).map(Proof::Step)
        }
        Some(SecondFactor::Recovery(code)) => {
            let digest = code.digest(&enrolment.account);
            enrolment.recovery_codes.contains(&digest).then_some(Proof::Recovery(digest))
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::totp::{step_at, RecoveryCode};
    use crate::domain::AccountId;
    use crate::sealing::random_secret_text;
    use crate::store::TotpState;

    #[test]
    fn a_code_proves_its_step_and_a_recovery_code_its_digest() {
        let key = DataKey::from_secret(&random_secret_text().unwrap()).unwrap();
        let account = AccountId::generate().unwrap();
        let secret = TotpSecret::generate().unwrap();
        let codes = RecoveryCode::generate_set().unwrap();
        let now = Utc::now();
        let mut enrolment = TotpEnrolment {
            account: account.clone(),
            state: TotpState::On,
            sealed_secret: key.seal(secret.as_bytes(), account.as_str()).unwrap(),
            last_step: None,
            recovery_codes: codes[1..].iter().map(|c| c.digest(&account)).collect(),
            created_at: now,
        };
        let code = secret.code_at(now);
        assert_eq!(prove(&key, &enrolment, &code, now), Ok(Some(Proof::Step(step_at(now)))));
        enrolment.last_step = Some(step_at(now));
        assert_eq!(prove(&key, &enrolment, &code, now), Ok(None), "used");
        let recovery = codes[1].display();
        assert_eq!(prove(&key, &enrolment, &recovery, now), Ok(Some(Proof::Recovery(codes[1].digest(&account)))));
        assert_eq!(prove(&key, &enrolment, &codes[0].display(), now), Ok(None), "not one of the unused");
        assert_eq!(prove(&key, &enrolment, "nonsense", now), Ok(None));
        let other = DataKey::from_secret(&random_secret_text().unwrap()).unwrap();
        assert_eq!(prove(&other, &enrolment, &code, now), Err(SealError::Corrupt), "another key opens nothing");
    }
}
