//! The physical ceilings: raw `COPY`s of the same rows into unindexed tables (no index, key,
//! check or default), to compare the write path with.

use std::time::{Duration, Instant};

use tangible_db::sqlx::{self, Executor};
use tangible_db::testing::TestDatabase;
use tangible_indexer::decode::{self, hex0x};
use tangible_indexer::store;

/// A table's rows as one binary `COPY` payload: table, row count, payload.
pub(crate) type Payload = (&'static str, i64, Vec<u8>);

/// The raw-log columns a `COPY` into an `events`-like table names.
const EVENT_COLUMNS: &str = "chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index, contract, event_name, topic0, topic1, topic2, topic3, data";

/// Every non-empty table the write path writes (raw log, derived tables, block hashes,
/// checkpoint), exported from `pool` as binary `COPY` payloads.
pub(crate) async fn export(pool: &sqlx::PgPool) -> anyhow::Result<Vec<Payload>> {
    let mut conn = pool.acquire().await?;
    let mut payloads = Vec::new();
    for table in [
        "events",
        "licences",
        "sales",
        "users",
        "studios",
        "films",
        "editions",
        "resale_offers",
        "withdrawals",
        "deposits",
        "blocks",
        "checkpoints",
    ] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut *conn)
                .await?;
        if rows == 0 {
            continue;
        }
        let mut out = conn
            .copy_out_raw(&format!("COPY {table} TO STDOUT (FORMAT binary)"))
            .await?;
        let mut payload = Vec::new();
        while let Some(chunk) = futures::StreamExt::next(&mut out).await {
            payload.extend_from_slice(&chunk?);
        }
        drop(out);
        payloads.push((table, rows, payload));
    }
    Ok(payloads)
}

/// The raw-log rows alone (3.), encoded by the write path's encoder and copied into an
/// unindexed `copy_probe` table; returns the time taken (encoding included).
pub(crate) async fn raw_log(
    conn: &mut sqlx::PgConnection,
    chain_id: u64,
    events: &[decode::Event],
) -> anyhow::Result<Duration> {
    conn.execute("CREATE TABLE copy_probe (LIKE events)")
        .await?;
    let t = Instant::now();
    let payload = store::encode_events(chain_id, events);
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY copy_probe ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    copy.send(payload).await?;
    assert_eq!(copy.finish().await? as usize, events.len());
    Ok(t.elapsed())
}

/// The same raw-log rows as a text `COPY` (the figure of earlier runs); returns the time
/// taken (encoding included).
pub(crate) async fn raw_log_text(
    conn: &mut sqlx::PgConnection,
    chain_id: u64,
    events: &[decode::Event],
) -> anyhow::Result<Duration> {
    conn.execute("CREATE TABLE copy_probe_text (LIKE events)")
        .await?;
    let t = Instant::now();
    let mut buf = String::with_capacity(events.len() * 400);
    for e in events {
        let r = &e.raw;
        let topic = |i: usize| {
            r.topics
                .get(i)
                .map(|t| format!("\\\\x{}", hex::encode(t)))
                .unwrap_or_else(|| "\\N".into())
        };
        buf.push_str(&format!(
            "{}\t{}\t{}\t\\N\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\\\x{}\n",
            chain_id,
            r.block_number,
            hex0x(r.block_hash),
            hex0x(r.tx_hash),
            r.tx_index,
            r.log_index,
            hex0x(r.address),
            e.name.unwrap_or("\\N"),
            topic(0),
            topic(1),
            topic(2),
            topic(3),
            hex::encode(&r.data)
        ));
    }
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY copy_probe_text ({EVENT_COLUMNS}) FROM STDIN"
        ))
        .await?;
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    Ok(t.elapsed())
}

/// Creates an unindexed `ceiling_<table>` of the same column types for each payload.
async fn create_tables(conn: &mut sqlx::PgConnection, payloads: &[Payload]) -> anyhow::Result<()> {
    for (table, _, _) in payloads {
        conn.execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE ceiling_{table} (LIKE {table})"
        )))
        .await?;
    }
    Ok(())
}

/// Copies each prepared binary payload into its `ceiling_<table>`, one after the other on
/// `conn`; returns the time taken and each table's rows and time.
async fn copy_tables(
    conn: &mut sqlx::PgConnection,
    payloads: &[&Payload],
) -> anyhow::Result<(Duration, Vec<String>)> {
    let mut times = Vec::new();
    let start = Instant::now();
    for (table, rows, payload) in payloads {
        let t = Instant::now();
        let mut copy = conn
            .copy_in_raw(&format!("COPY ceiling_{table} FROM STDIN (FORMAT binary)"))
            .await?;
        copy.send(payload.as_slice()).await?;
        assert_eq!(copy.finish().await? as i64, *rows);
        times.push(format!(
            "{table} {rows} in {:.2}s",
            t.elapsed().as_secs_f64()
        ));
    }
    Ok((start.elapsed(), times))
}

/// Every row (3b.), one `COPY` per table on one connection; returns the time taken and each
/// table's rows and time.
pub(crate) async fn all_rows(
    conn: &mut sqlx::PgConnection,
    payloads: &[Payload],
) -> anyhow::Result<(Duration, Vec<String>)> {
    create_tables(conn, payloads).await?;
    copy_tables(conn, &payloads.iter().collect::<Vec<_>>()).await
}

/// The same rows on two connections at once (3c.), as the write path has two: the raw log on
/// one, every other table (derived tables, block hashes, checkpoint) on the other; returns the
/// time taken and each side's.
pub(crate) async fn two_connections(
    db: &TestDatabase,
    payloads: &[Payload],
) -> anyhow::Result<(Duration, (Duration, Duration))> {
    let (mut events_conn, mut rest_conn) = (db.pool().acquire().await?, db.pool().acquire().await?);
    create_tables(&mut events_conn, payloads).await?;
    let (raw_log, rest): (Vec<_>, Vec<_>) = payloads
        .iter()
        .partition(|(table, _, _)| *table == "events");
    let t = Instant::now();
    let (a, b) = tokio::join!(
        copy_tables(&mut events_conn, &raw_log),
        copy_tables(&mut rest_conn, &rest)
    );
    let ((events_side, _), (rest_side, _)) = (a?, b?);
    Ok((t.elapsed(), (events_side, rest_side)))
}
