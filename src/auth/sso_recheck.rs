//! The re-check of SSO people (product.md §11): every `OIDC_RECHECK` seconds each person with a
//! stored refresh token is asked about at the provider. Every instance runs the pass; a person
//! is checked by the one instance whose conditional claim moved their `sso_checked_at`, so each
//! is asked about once per interval however many instances run. Each claim is made at the
//! moment of asking, so a long pass cannot leave a person due again while it still asks.

use chrono::TimeDelta;

use super::oidc::{Oidc, Standing};
use crate::domain::UserId;
use crate::domain::sso::revocations_look_wrong;
use crate::domain::time::Clock;
use crate::metrics::METRICS;
use crate::store::sso::{self, Revoked};
use crate::store::{Store, StoreError};

/// People one pass asks about; the rest are due still and wait for the next pass.
const PEOPLE_PER_PASS: i64 = 500;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecheckReport {
    /// Asked about, and still vouched for.
    pub current: usize,
    /// Deactivated: the provider no longer vouches for them.
    pub deactivated: usize,
    /// Revoked, and kept active: the account's last administrator, or all of a pass whose
    /// revocations look wrong (`revocations_look_wrong`).
    pub held_back: usize,
    /// The provider could not answer (or refused us), or the grant does not open here: asked
    /// again at the next interval.
    pub failed: usize,
}

/// One pass over the people last checked more than `every` ago, by `clock`.
pub async fn pass(
    store: &Store,
    oidc: &Oidc,
    every: TimeDelta,
    email_enabled: bool,
    clock: &Clock,
) -> Result<RecheckReport, StoreError> {
    let issuer = oidc.issuer().to_owned();
    let cutoff = clock.now() - every;
    let due = store
        .run(move |conn| sso::due_for_recheck(conn, &issuer, cutoff, PEOPLE_PER_PASS))
        .await?;
    let mut report = RecheckReport::default();
    // Acted on once the pass has heard every answer: (person, the grant refused, why).
    let mut revoked: Vec<(UserId, String, &'static str)> = Vec::new();
    for person in due {
        let now = clock.now();
        let id = person.id.clone();
        if !store
            .run(move |conn| sso::claim_recheck(conn, &id, now - every, now))
            .await?
        {
            continue;
        }
        METRICS.sso_checks.inc();
        let answer = oidc
            .recheck(&person.subject, &person.sealed_refresh, now)
            .await;
        // A rotated token is kept before anything else: the old one is spent.
        let grant = match answer.rotated {
            Some(rotated) => {
                let (id, used, kept) = (person.id.clone(), person.sealed_refresh, rotated.clone());
                store
                    .run(move |conn| sso::keep_rotated(conn, &id, &used, &kept))
                    .await?;
                rotated
            }
            None => person.sealed_refresh,
        };
        match answer.standing {
            Ok(Standing::Current { role }) => {
                let id = person.id.clone();
                store
                    .run(move |conn| sso::recheck_current(conn, &id, role, now))
                    .await?;
                report.current += 1;
            }
            Ok(Standing::Revoked(why)) => revoked.push((person.id, grant, why)),
            Ok(Standing::Unreadable) => {
                // Kept: another instance (its own SESSION_KEY during a change) may open it.
                tracing::warn!(
                    user = %person.id,
                    "the stored SSO grant does not open here (another SESSION_KEY or client \
                     id?); asked about again next interval"
                );
                METRICS.sso_check_failures.inc();
                report.failed += 1;
            }
            Err(error) => {
                // The provider's words, never the token.
                tracing::warn!(user = %person.id, %error, "SSO re-check failed; retried later");
                METRICS.sso_check_failures.inc();
                report.failed += 1;
            }
        }
    }
    if revocations_look_wrong(revoked.len(), report.current + revoked.len()) {
        tracing::error!(
            revoked = revoked.len(),
            still_vouched_for = report.current,
            "the identity provider refused most people at once: nobody is deactivated. Check \
             the provider and OIDC_CLIENT_ID; they are asked about again next interval"
        );
        METRICS.sso_held_back.inc_by(revoked.len() as u64);
        report.held_back += revoked.len();
        let (held, now): (Vec<UserId>, _) = (
            revoked.into_iter().map(|(id, ..)| id).collect(),
            clock.now(),
        );
        store
            .run(move |conn| sso::revocations_held(conn, &held, email_enabled, now))
            .await?;
        return Ok(report);
    }
    for (id, used, why) in revoked {
        let now = clock.now();
        let person = id.clone();
        let outcome = store
            .run(move |conn| sso::recheck_revoked(conn, &person, &used, email_enabled, now))
            .await?;
        match outcome {
            Revoked::Deactivated => {
                tracing::info!(user = %id, why, "deactivated by the SSO re-check");
                METRICS.sso_revoked.inc();
                report.deactivated += 1;
            }
            Revoked::LastAdministrator => {
                tracing::warn!(
                    user = %id,
                    why,
                    "the provider revoked the account's last active administrator; kept active \
                     until another administrator can act"
                );
                METRICS.sso_held_back.inc();
                report.held_back += 1;
            }
            Revoked::Nothing => {}
        }
    }
    Ok(report)
}
