//! The re-check of SSO people (product.md §11): every `OIDC_RECHECK` seconds each person with a
//! stored refresh token is asked about at the provider. Every instance runs the pass; a person
//! is checked by the one instance whose conditional claim moved their `sso_checked_at`, so each
//! is asked about once per interval however many instances run.

use chrono::{NaiveDateTime, TimeDelta};

use super::oidc::{Oidc, Standing};
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
    /// The provider could not answer (or refused us): asked again at the next interval.
    pub failed: usize,
}

/// One pass at `now` over the people last checked more than `every` ago.
pub async fn pass(
    store: &Store,
    oidc: &Oidc,
    every: TimeDelta,
    email_enabled: bool,
    now: NaiveDateTime,
) -> Result<RecheckReport, StoreError> {
    let cutoff = now - every;
    let issuer = oidc.issuer().to_owned();
    let due = store
        .run(move |conn| sso::due_for_recheck(conn, &issuer, cutoff, PEOPLE_PER_PASS))
        .await?;
    let mut report = RecheckReport::default();
    for person in due {
        let id = person.id.clone();
        if !store
            .run(move |conn| sso::claim_recheck(conn, &id, cutoff, now))
            .await?
        {
            continue;
        }
        METRICS.sso_checks.inc();
        let id = person.id.clone();
        match oidc
            .recheck(&person.subject, &person.sealed_refresh, now)
            .await
        {
            Ok(Standing::Current {
                role,
                sealed_refresh,
            }) => {
                store
                    .run(move |conn| {
                        sso::recheck_current(conn, &id, role, sealed_refresh.as_deref(), now)
                    })
                    .await?;
                report.current += 1;
            }
            Ok(Standing::Revoked(why)) => {
                let outcome = store
                    .run(move |conn| sso::recheck_revoked(conn, &id, email_enabled, now))
                    .await?;
                match outcome {
                    Revoked::Deactivated => {
                        tracing::info!(user = %person.id, why, "deactivated by the SSO re-check");
                        METRICS.sso_revoked.inc();
                        report.deactivated += 1;
                    }
                    Revoked::LastAdministrator => tracing::warn!(
                        user = %person.id,
                        why,
                        "the provider revoked the account's last administrator; kept active"
                    ),
                    Revoked::Nothing => {}
                }
            }
            Ok(Standing::Unreadable) => {
                tracing::warn!(
                    user = %person.id,
                    "the stored SSO grant does not open (was SESSION_KEY changed?); not \
                     re-checked until the person signs in again"
                );
                store
                    .run(move |conn| sso::forget_refresh(conn, &id))
                    .await?;
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
    Ok(report)
}
