//! A secret-scanning report, handled in one transaction per token: every reported string that
//! is a live token of this deployment is revoked, and its issuer and the account's
//! administrators get a notice naming where it was found. What counts as ours and as live is
//! the domain's (`secret::check_format`, `plan_revoke_reported`).

use chrono::NaiveDateTime;

use super::tokens::{self, Reported};
use super::{AnyConnection, StoreResult, notices};
use crate::domain::notice::{self, NoticeKind};
use crate::domain::secret::{self, TokenDigest};

/// One entry of a report, as the scanner sent it.
pub struct ReportedSecret {
    pub token: String,
    pub url: String,
}

/// What became of each reported string, in the report's order.
pub fn revoke_reported(
    conn: &mut AnyConnection,
    reports: &[ReportedSecret],
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<Vec<Reported>> {
    let mut outcomes = Vec::with_capacity(reports.len());
    for report in reports {
        let token = report.token.trim();
        // A string that is not even shaped like our tokens costs no query.
        if secret::check_format(token).is_err() {
            outcomes.push(Reported::NotOurs);
            continue;
        }
        let url = notice::leak_location(&report.url);
        let outcome = tokens::revoke_reported(conn, &TokenDigest::of(token), &url, now)?;
        if let Reported::Revoked(id) = &outcome {
            let kind = NoticeKind::Leaked { url };
            notices::claim_token_notice(conn, id, &kind, email_enabled, now)?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
