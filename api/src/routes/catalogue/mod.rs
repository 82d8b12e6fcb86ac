//! Catalogue and history for marketplace frontends, read from the indexer's mirror of the chain
//! (`studios`, `films`, `editions`, `licences`, `resale_offers`, `sales`). Every list is
//! paginated by a keyset cursor (`limit` ≤ 100, `next_cursor` to pass back, see [`Page`]) and
//! filterable. Every amount shown comes from a `SaleSettled` event (`tx_hash`, `log_index`).
//!
//! - [`films`]: films with their editions and prices.
//! - [`offers`]: resale offers.
//! - [`licences`]: an owner's licences and a licence's history across resales.
//! - [`sales`]: sales with their split.
//! - [`statement`]: a studio's royalty statement (JSON or CSV).
//!
//! This file holds what the lists share: the page's size and cursors, and the filters. The
//! views, queries and [`Page`] are wire types of `tangible_api_types::catalogue`.

pub mod films;
pub mod licences;
pub mod offers;
pub mod sales;
pub mod statement;

use tangible_api_types::catalogue::Page;

use crate::error::{ApiError, ApiResult};

const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 20;

/// The page size asked (`limit`, 1..=100, default 20). Statements fetch one row more, the
/// probe that [`Page::from_probe`] turns into `next_cursor`.
fn limit(l: Option<i64>) -> ApiResult<i64> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::invalid_field(format!(
            "limit {l} must be between 1 and {MAX_LIMIT}"
        ))),
    }
}

fn invalid_cursor(c: &str) -> ApiError {
    ApiError::invalid_field(format!("cursor {c:?} is not valid"))
}

/// A cursor that is an integer id (films).
fn integer_cursor(c: Option<&str>) -> ApiResult<Option<i64>> {
    c.map(|c| c.parse().map_err(|_| invalid_cursor(c)))
        .transpose()
}

/// A cursor that is a uint256 in decimal (offers, licences), compared as `numeric`.
fn decimal_cursor(c: Option<&str>) -> ApiResult<Option<String>> {
    match c {
        Some(c) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && c.len() <= 78 => {
            Ok(Some(c.to_owned()))
        }
        Some(c) => Err(invalid_cursor(c)),
        None => Ok(None),
    }
}

/// A cursor that is an event's position, `block-logindex` (sales).
fn event_cursor(c: Option<&str>) -> ApiResult<Option<(i64, i32)>> {
    c.map(|c| {
        c.split_once('-')
            .and_then(|(b, l)| Some((b.parse::<i64>().ok()?, l.parse::<i32>().ok()?)))
            .ok_or_else(|| invalid_cursor(c))
    })
    .transpose()
}

fn address_filter(a: Option<&str>, name: &str) -> ApiResult<Option<String>> {
    a.map(|a| {
        a.parse::<alloy::primitives::Address>()
            .map(|a| a.to_string().to_lowercase())
            .map_err(|_| ApiError::invalid_field(format!("{name} {a:?} is not an address")))
    })
    .transpose()
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn quality_name(code: i16) -> String {
    u8::try_from(code)
        .ok()
        .and_then(|c| tangible_domain::Quality::from_code(c).ok())
        .map(|q| q.as_str().to_owned())
        .unwrap_or_else(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::Page;

    /// Pages of `limit` over `rows`, following each page's cursor (rows after it, plus the
    /// probe row), as the list statements do.
    fn walk(rows: &[u32], limit: i64) -> Vec<Vec<u32>> {
        let mut pages = Vec::new();
        let mut after = None;
        loop {
            let fetched: Vec<u32> = rows
                .iter()
                .copied()
                .filter(|r| after.is_none_or(|a| *r > a))
                .take(limit as usize + 1)
                .collect();
            let page = Page::from_probe(fetched, limit, |r| r.to_string());
            pages.push(page.items);
            match page.next_cursor {
                Some(c) => after = Some(c.parse().unwrap()),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_from_the_probe_row_cover_every_row_once_and_end_without_a_cursor() {
        assert_eq!(walk(&[1, 2, 3, 4, 5], 2), [vec![1, 2], vec![3, 4], vec![5]]);
        // A last page that is exactly full has no cursor: no empty page follows.
        assert_eq!(walk(&[1, 2, 3, 4], 2), [vec![1, 2], vec![3, 4]]);
        assert_eq!(walk(&[], 3), [Vec::<u32>::new()]);
        assert_eq!(walk(&[7], 1), [vec![7]]);
    }
}
