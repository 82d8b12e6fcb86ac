//! A studio's royalty statement: `GET /v1/studios/{id}/statement`, every sale of a period with
//! the sums of each share, as JSON or CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tangible_api_types::catalogue::{SaleQuery, Statement};

use super::sales::fetch_sales;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// A studio's royalty statement (JSON, or CSV with `format=csv`).
#[utoipa::path(get, path = "/v1/studios/{id}/statement", params(("id" = i64, Path, description = "studio id"), SaleQuery),
    responses(
        (status = 200, content((Statement = "application/json"), (String = "text/csv"))),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SaleQuery>,
) -> ApiResult<Response> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no studio {id:?}")))?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT studio_id FROM studios WHERE studio_id = $1")
            .bind(id)
            .fetch_optional(state.db())
            .await?;
    exists.ok_or_else(|| ApiError::not_found(format!("no studio {id}")))?;
    let lines = fetch_sales(&state, &q, Some(id), None).await?;
    let st = Statement {
        studio_id: id,
        from: q.from,
        to: q.to,
        sales: lines.len() as i64,
        gross_cents: lines.iter().map(|l| l.price_cents).sum(),
        studio_cents: lines.iter().map(|l| l.studio_cents).sum(),
        platform_cents: lines.iter().map(|l| l.platform_cents).sum(),
        seller_cents: lines.iter().map(|l| l.seller_cents).sum(),
        lines,
    };
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(axum::Json(st).into_response()),
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv(&st),
        )
            .into_response()),
        other => Err(ApiError::invalid_field(format!(
            "format {other:?}: expected json or csv"
        ))),
    }
}

/// The statement as CSV: one line per sale, then a `TOTAL` line.
fn csv(st: &Statement) -> String {
    let mut out = String::from(
        "block_number,log_index,tx_hash,block_timestamp,kind,licence_id,film_id,price_cents,seller_cents,studio_cents,platform_cents,payment_ref\n",
    );
    for l in &st.lines {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            l.block_number,
            l.log_index,
            l.tx_hash,
            l.block_timestamp
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            l.kind,
            l.licence_id,
            l.film_id.map(|f| f.to_string()).unwrap_or_default(),
            l.price_cents,
            l.seller_cents,
            l.studio_cents,
            l.platform_cents,
            l.payment_ref.clone().unwrap_or_default(),
        ));
    }
    out.push_str(&format!(
        "TOTAL,,,,,,,{},{},{},{},\n",
        st.gross_cents, st.seller_cents, st.studio_cents, st.platform_cents
    ));
    out
}
