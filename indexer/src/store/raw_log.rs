//! The raw log: every log of the contract, one `events` row each (unique on
//! `(chain_id, tx_hash, log_index)`), appended by binary `COPY` or, when a batch is written
//! again, by an idempotent insert.

use sqlx::PgConnection;

use super::send_copy;
use crate::Result;
use crate::copy::BinaryCopy;
use crate::decode::{Event, hex0x};

/// Column list of the raw log, in the order [`copy_events`] encodes the fields.
const EVENT_COLUMNS: &str = "chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index, contract, event_name, topic0, topic1, topic2, topic3, data";

/// Encodes raw events as a binary `COPY` payload for [`EVENT_COLUMNS`].
pub fn encode_events(chain_id: u64, events: &[Event]) -> Vec<u8> {
    let mut c = BinaryCopy::with_capacity(events.len() * 480);
    for e in events {
        encode_event(&mut c, chain_id, e);
    }
    c.finish()
}

fn encode_event(c: &mut BinaryCopy, chain_id: u64, e: &Event) {
    let r = &e.raw;
    c.row(14);
    c.int8(chain_id as i64);
    c.int8(r.block_number as i64);
    c.hex0x(r.block_hash.as_slice());
    match r.block_timestamp {
        Some(t) => c.timestamptz(t as i64),
        None => c.null(),
    }
    c.hex0x(r.tx_hash.as_slice());
    c.int4(r.tx_index as i32);
    c.int4(r.log_index as i32);
    c.hex0x(r.address.as_slice());
    match e.name {
        Some(n) => c.text(n),
        None => c.null(),
    }
    for i in 0..4 {
        match r.topics.get(i) {
            Some(t) => c.bytea(t.as_slice()),
            None => c.null(),
        }
    }
    c.bytea(&r.data);
}

/// Appends raw events with one binary `COPY` (the fast path of [`write_batch`](super::write_batch)). Fails with a
/// unique violation if one of them is already stored; [`insert_events`] skips those instead.
pub async fn copy_events(conn: &mut PgConnection, chain_id: u64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    send_copy(
        conn,
        &format!("COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)"),
        encode_events(chain_id, events),
    )
    .await
}

/// Appends raw events; an event already stored is skipped (idempotent).
pub async fn insert_events(conn: &mut PgConnection, chain_id: u64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let mut bn = Vec::with_capacity(n);
    let mut bh = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    let mut txh = Vec::with_capacity(n);
    let mut ti = Vec::with_capacity(n);
    let mut li = Vec::with_capacity(n);
    let mut contract = Vec::with_capacity(n);
    let mut name = Vec::with_capacity(n);
    let mut topics: [Vec<Option<Vec<u8>>>; 4] = Default::default();
    let mut data = Vec::with_capacity(n);
    for e in events {
        let r = &e.raw;
        bn.push(r.block_number as i64);
        bh.push(hex0x(r.block_hash));
        ts.push(r.block_timestamp.map(|t| t as i64));
        txh.push(hex0x(r.tx_hash));
        ti.push(r.tx_index as i32);
        li.push(r.log_index as i32);
        contract.push(hex0x(r.address));
        name.push(e.name);
        for (i, col) in topics.iter_mut().enumerate() {
            col.push(r.topics.get(i).map(|t| t.to_vec()));
        }
        data.push(r.data.to_vec());
    }
    let [t0, t1, t2, t3] = topics;
    sqlx::query(
        "INSERT INTO events (chain_id, block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index,
                             contract, event_name, topic0, topic1, topic2, topic3, data)
         SELECT $1, bn, bh, to_timestamp(ts), txh, ti, li, c, nm, t0, t1, t2, t3, d
         FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[],
                     $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[], $14::bytea[])
              AS t(bn, bh, ts, txh, ti, li, c, nm, t0, t1, t2, t3, d)
         ON CONFLICT (chain_id, tx_hash, log_index) DO NOTHING",
    )
    .bind(chain_id as i64)
    .bind(bn)
    .bind(bh)
    .bind(ts)
    .bind(txh)
    .bind(ti)
    .bind(li)
    .bind(contract)
    .bind(name)
    .bind(t0)
    .bind(t1)
    .bind(t2)
    .bind(t3)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}
