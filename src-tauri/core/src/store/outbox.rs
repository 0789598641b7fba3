//! Queries for the `outbox` table: order/event deliveries waiting to be sent, written in the same
//! transaction as the change that caused them.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub webhook_id: String,
    pub action_type: String,
    pub action_subtype: String,
    pub payload: String,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str =
    "id, webhook_id, action_type, action_subtype, payload, state, attempts, next_attempt_at, last_error, created_at";

fn read(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        action_type: r.get(2)?,
        action_subtype: r.get(3)?,
        payload: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
        last_error: r.get(8)?,
        created_at: from_ms(r.get(9)?),
    })
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &Connection,
    id: &str,
    webhook_id: &str,
    action_type: &str,
    action_subtype: &str,
    payload: &str,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO outbox (id, webhook_id, action_type, action_subtype, payload, state, attempts,
                             next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6, ?6)",
        params![
            id,
            webhook_id,
            action_type,
            action_subtype,
            payload,
            to_ms(now)
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<OutboxRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            read,
        )
        .optional()?)
}

/// Claims up to `limit` pending deliveries due at `cutoff`, oldest first, in ONE statement: each
/// claimed row's `next_attempt_at` moves to the end of its lease (`now` + its webhook's timeout +
/// `slack_ms`), so no other worker or process claims it meanwhile; a row whose lease ran out (its
/// sender died) is due again: at-least-once. Run it inside an immediate transaction.
///
/// `LIMIT ?4 + 0`, not `LIMIT ?4`: SQLite re-prepares a statement whose bare `LIMIT ?` value
/// changed since the last run (it may plan with the value), and the free slots change from one
/// round to the next; the scan is in index order, so the value does not matter to the plan.
pub fn claim(
    conn: &Connection,
    cutoff: Timestamp,
    now: Timestamp,
    slack_ms: i64,
    limit: usize,
    except: &[String],
) -> CoreResult<Vec<OutboxRow>> {
    let except = if except.is_empty() {
        String::new()
    } else {
        serde_json::to_string(except).unwrap_or_default()
    };
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE outbox SET next_attempt_at = ?2 + ?3
             + 1000 * coalesce((SELECT timeout_secs FROM webhooks w WHERE w.id = outbox.webhook_id), 120)
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
                        AND (?5 = '' OR id NOT IN (SELECT value FROM json_each(?5)))
                      ORDER BY next_attempt_at LIMIT ?4 + 0)
         RETURNING {COLUMNS}"
    ))?;
    let rows = stmt.query_map(
        params![to_ms(cutoff), to_ms(now), slack_ms, limit as i64, except],
        read,
    )?;
    let mut rows: Vec<OutboxRow> = rows.collect::<Result<_, _>>()?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows)
}

/// When the next pending delivery is due, if any.
pub fn next_due(conn: &Connection) -> CoreResult<Option<Timestamp>> {
    let ms: Option<i64> = conn.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(ms.map(from_ms))
}

/// Records the outcome of a claimed attempt. Returns false (and changes nothing) when the row is
/// no longer the one this worker claimed: its lease ran out and another worker took it over.
#[allow(clippy::too_many_arguments)]
pub fn record_claimed(
    conn: &Connection,
    id: &str,
    claimed_attempts: u32,
    attempts: u32,
    state: &str,
    next_attempt_at: Option<Timestamp>,
    last_error: Option<&str>,
    now: Timestamp,
) -> CoreResult<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET state = ?2, attempts = ?7, next_attempt_at = ?4, last_error = ?5,
                           updated_at = ?6
         WHERE id = ?1 AND state = 'pending' AND attempts = ?3",
    )?;
    let n = stmt.execute(params![
        id,
        state,
        claimed_attempts,
        next_attempt_at.map(to_ms),
        last_error,
        to_ms(now),
        attempts
    ])?;
    Ok(n == 1)
}

/// The outcome of one claimed attempt, for [`record_claimed_many`].
#[derive(Debug, Clone, Copy)]
pub struct ClaimedOutcome<'a> {
    pub id: &'a str,
    /// The attempt count the row had when it was claimed: the outcome applies only if it still
    /// has it (and is still pending), i.e. the row is still this sender's claim.
    pub claimed_attempts: u32,
    pub attempts: u32,
    pub state: &'a str,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<&'a str>,
}

/// Rows per statement of the multi-row writes: a batch is cut into these sizes (largest first),
/// so a handful of cached statements serve every batch size.
pub(crate) const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Splits `items` into chunks of the sizes in [`CHUNKS`].
pub(crate) fn chunked<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = CHUNKS.iter().copied().find(|&n| n <= rest.len())?;
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

fn chunk_index(n: usize) -> usize {
    CHUNKS
        .iter()
        .position(|&c| c == n)
        .unwrap_or(CHUNKS.len() - 1)
}

/// `(?f,?f+1,…),(…)`: `rows` groups of `cols` numbered parameters, starting at `first`.
pub(crate) fn values_list(rows: usize, cols: usize, first: usize) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..cols)
                .map(|c| format!("?{}", first + r * cols + c))
                .collect();
            format!("({})", params.join(","))
        })
        .collect();
    groups.join(",")
}

/// The cached SQL text of a multi-row statement for a chunk of `n` rows (`n` one of [`CHUNKS`]).
pub(crate) fn chunk_sql(
    cell: &'static std::sync::OnceLock<Vec<String>>,
    n: usize,
    make: impl Fn(usize) -> String,
) -> &'static str {
    &cell.get_or_init(|| CHUNKS.iter().map(|&c| make(c)).collect())[chunk_index(n)]
}

/// [`record_claimed`] for many rows at once: one `UPDATE … FROM (VALUES …)` per chunk instead
/// of one statement per row, with the same guard per row (still pending, same attempt count).
/// Returns how many rows were updated (rows no longer this sender's claim are left as they are).
pub fn record_claimed_many(
    conn: &Connection,
    outcomes: &[ClaimedOutcome<'_>],
    now: Timestamp,
) -> CoreResult<usize> {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let mut updated = 0;
    for chunk in chunked(outcomes) {
        let sql = chunk_sql(&SQL, chunk.len(), |n| {
            format!(
                "UPDATE outbox SET state = d.column4, attempts = d.column3,
                                   next_attempt_at = d.column5, last_error = d.column6,
                                   updated_at = ?1
                 FROM (VALUES {}) AS d
                 WHERE outbox.id = d.column1 AND outbox.state = 'pending'
                   AND outbox.attempts = d.column2",
                values_list(n, 6, 2)
            )
        });
        let mut stmt = conn.prepare_cached(sql)?;
        stmt.raw_bind_parameter(1, to_ms(now))?;
        for (i, o) in chunk.iter().enumerate() {
            let p = 2 + i * 6;
            stmt.raw_bind_parameter(p, o.id)?;
            stmt.raw_bind_parameter(p + 1, o.claimed_attempts)?;
            stmt.raw_bind_parameter(p + 2, o.attempts)?;
            stmt.raw_bind_parameter(p + 3, o.state)?;
            stmt.raw_bind_parameter(p + 4, o.next_attempt_at.map(to_ms))?;
            stmt.raw_bind_parameter(p + 5, o.last_error)?;
        }
        updated += stmt.raw_execute()?;
    }
    Ok(updated)
}

/// Settles a delivery after a one-off send ("Resend").
pub fn record(
    conn: &Connection,
    id: &str,
    state: &str,
    attempts: u32,
    next_attempt_at: Option<Timestamp>,
    last_error: Option<&str>,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6
         WHERE id = ?1",
        params![id, state, attempts, next_attempt_at.map(to_ms), last_error, to_ms(now)],
    )?;
    Ok(())
}

pub fn count_by_state(conn: &Connection, state: &str) -> CoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM outbox WHERE state = ?1",
        [state],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeliveryAttempt;
    use crate::store::{delivery_attempts, Store};

    fn store_with_rows(n: usize) -> (tempfile::TempDir, Store, Timestamp) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite3")).unwrap();
        let now = Timestamp::from_second(1_900_000_000).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO webhooks (id, name, action_type, action_subtype, url, verb, timeout_secs,
                                       created_at, updated_at)
                 VALUES ('w', 'hook', 'event', 'create', 'http://127.0.0.1:9/h', 'POST', 2, ?1, ?1)",
                [to_ms(now)],
            )
            .unwrap();
        for i in 0..n {
            insert(
                store.conn(),
                &format!("msg_{i:03}"),
                "w",
                "event",
                "create",
                "{}",
                now,
            )
            .unwrap();
        }
        (dir, store, now)
    }

    #[test]
    fn outbox_multi_row_outcomes_apply_only_to_rows_still_claimed() {
        // 45 rows: chunks of 32, 8, 4 and 1 statements.
        let (_dir, store, now) = store_with_rows(45);
        let c = store.conn();
        let claimed = claim(c, now, now, 5000, 45, &[]).unwrap();
        assert_eq!(claimed.len(), 45);
        // Another sender took msg_007 over after our lease ran out (its attempt count moved on),
        // and msg_009 was settled meanwhile: neither may be touched by our late outcomes.
        c.execute("UPDATE outbox SET attempts = 1 WHERE id = 'msg_007'", [])
            .unwrap();
        c.execute(
            "UPDATE outbox SET state = 'delivered' WHERE id = 'msg_009'",
            [],
        )
        .unwrap();
        let later = now + jiff::SignedDuration::from_secs(1);
        let retry_at = later + jiff::SignedDuration::from_secs(5);
        let outcomes: Vec<ClaimedOutcome> = claimed
            .iter()
            .enumerate()
            .map(|(i, r)| ClaimedOutcome {
                id: &r.id,
                claimed_attempts: r.attempts,
                attempts: r.attempts + 1,
                state: if i % 2 == 0 { "delivered" } else { "pending" },
                next_attempt_at: (i % 2 == 1).then_some(retry_at),
                last_error: (i % 2 == 1).then_some("HTTP 503 Service Unavailable"),
            })
            .collect();
        assert_eq!(record_claimed_many(c, &outcomes, later).unwrap(), 43);
        for (i, r) in claimed.iter().enumerate() {
            let row = get(c, &r.id).unwrap().unwrap();
            match r.id.as_str() {
                "msg_007" => assert_eq!((row.state.as_str(), row.attempts), ("pending", 1)),
                "msg_009" => assert_eq!((row.state.as_str(), row.attempts), ("delivered", 0)),
                _ if i % 2 == 0 => {
                    assert_eq!((row.state.as_str(), row.attempts), ("delivered", 1));
                    assert_eq!(row.next_attempt_at, None);
                }
                _ => {
                    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));
                    assert_eq!(row.next_attempt_at, Some(retry_at));
                    assert_eq!(
                        row.last_error.as_deref(),
                        Some("HTTP 503 Service Unavailable")
                    );
                }
            }
        }
    }

    #[test]
    fn outbox_claim_leases_only_due_rows_and_honours_limit_and_except() {
        let (_dir, store, now) = store_with_rows(10);
        let c = store.conn();
        let except = vec!["msg_000".to_string()];
        let first = claim(c, now, now, 5000, 4, &except).unwrap();
        let ids: Vec<&str> = first.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["msg_001", "msg_002", "msg_003", "msg_004"]);
        // Leased for the webhook's timeout (2 s) + slack: not claimable again meanwhile...
        let lease_end = to_ms(now) + 2000 + 5000;
        for r in &first {
            assert_eq!(
                get(c, &r.id).unwrap().unwrap().next_attempt_at.map(to_ms),
                Some(lease_end)
            );
        }
        let second = claim(c, now, now, 5000, 64, &[]).unwrap();
        assert_eq!(second.len(), 6, "the other six, msg_000 included");
        assert!(claim(c, now, now, 5000, 64, &[]).unwrap().is_empty());
        // ...and due again once the leases ended (their sender died without an outcome).
        let after = from_ms(lease_end);
        assert_eq!(claim(c, after, after, 5000, 64, &[]).unwrap().len(), 10);
    }

    #[test]
    fn outbox_multi_row_attempt_log_keeps_order_and_fields() {
        let (_dir, store, now) = store_with_rows(0);
        let c = store.conn();
        let entries: Vec<DeliveryAttempt> = (0..45)
            .map(|i| DeliveryAttempt {
                id: String::new(),
                outbox_id: Some(format!("msg_{i:03}")),
                webhook_id: Some("w".into()),
                webhook_name: format!("hook {i}"),
                action: "event/create".into(),
                verb: "POST".into(),
                url: "http://127.0.0.1:9/h".into(),
                attempt: i + 1,
                attempted_at: now,
                duration_ms: i * 2,
                status: (i % 3 == 0).then_some(200),
                error_class: (i % 3 != 0).then_some(crate::delivery::ErrorClass::Refused),
                error: (i % 3 != 0).then(|| format!("refused {i}")),
                response_excerpt: format!("excerpt {i}"),
                outcome: if i % 3 == 0 { "delivered" } else { "retrying" }.into(),
                next_attempt_at: (i % 3 != 0).then_some(now),
            })
            .collect();
        delivery_attempts::insert_many(c, &entries).unwrap();
        let mut logged = delivery_attempts::list(c, None, None, 100).unwrap();
        logged.reverse(); // newest first
        assert_eq!(logged.len(), 45);
        for (got, want) in logged.iter().zip(&entries) {
            let mut got = got.clone();
            got.id = String::new();
            assert_eq!(&got, want);
        }
    }
}
