//! The loopback film server behind `tangible play`: a decrypted film served over HTTP to a
//! video player on the same machine, without the plaintext ever touching the disk.
//!
//! ```text
//! player ──GET /<token>/film.mp4, Range: bytes=a-b──▶ 127.0.0.1:<random port>
//!                                                    │ token checked (constant time), else 403
//!                                                    │ segments ⌊a/seg⌋ ..= ⌊b/seg⌋ opened one by
//!                                                    │ one through `MappedFilm::read_segment`
//! player ◀──206, Content-Range, ≤ 4 segments in flight
//! ```
//!
//! * Bound to `127.0.0.1` port 0 (the kernel picks a free port): nothing off the machine can
//!   connect. The URL carries a random 128-bit token; any other path is answered 403, so another
//!   local user who finds the port cannot watch the film without reading the URL.
//! * `GET` and `HEAD`; one byte range per request (`Range: bytes=…`, parsed by
//!   `http-range-header`, the parser tower-http uses): 206 with `Content-Range`, 416 with
//!   `Content-Range: bytes */<len>` when unsatisfiable (or several ranges are asked), 200 for the
//!   whole film. `Content-Type` is sniffed from the first plaintext bytes (MP4, WebM, Matroska,
//!   else `application/octet-stream`).
//! * Random access: a request decrypts only the segments it covers, each authenticated before
//!   any of its bytes is sent, in a blocking thread feeding the response body through a channel
//!   of a few segments; the film is never held in memory. A mapped reader (`MappedFilm`) is kept
//!   per concurrent request in a small pool, and so are the chunk buffers (a dozen segments'
//!   worth): reused, not reallocated and wiped per chunk, which cost more than the decryption.
//!   Each segment is decrypted straight from the mapped file into a chunk buffer
//!   (`MappedFilm::read_segment_into`), not copied out of the reader's window. Both pools are
//!   wiped when their items leave them or the server stops.
//! * A segment that does not authenticate: if it is the request's first, the answer is 500;
//!   later, the connection is cut (the body ends with an error, so the player cannot mistake a
//!   short body for the film). Either way nothing unauthenticated is sent, the error is printed
//!   on stderr and reported on [`FilmServer::failures`].

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;
use tangible_crypto::film::{FilmKey, Header, MappedFilm};
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

/// Segments decrypted ahead of the socket, per request.
const IN_FLIGHT: usize = 4;
/// Mapped readers kept for reuse between requests.
const POOL: usize = 4;
/// Plaintext chunk buffers kept for reuse: the chunks in flight of two requests, plus the one
/// being filled and the one being written, each.
const BUFFERS: usize = 2 * (IN_FLIGHT + 2);

/// What the film's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType {
    /// The `Content-Type`.
    pub mime: &'static str,
    /// The file name in the URL (players guess the demuxer from it).
    pub file_name: &'static str,
}

impl MediaType {
    /// Sniffs the container from the first plaintext bytes: ISO BMFF (`ftyp` box first: MP4),
    /// EBML with the `webm` doctype (WebM) or another (Matroska); else octet-stream.
    pub fn sniff(head: &[u8]) -> Self {
        let is = |mime, file_name| Self { mime, file_name };
        if head.len() >= 8 && &head[4..8] == b"ftyp" {
            is("video/mp4", "film.mp4")
        } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            if head[..head.len().min(64)].windows(4).any(|w| w == b"webm") {
                is("video/webm", "film.webm")
            } else {
                is("video/x-matroska", "film.mkv")
            }
        } else {
            is("application/octet-stream", "film.bin")
        }
    }
}

/// A request that failed because the film did not decrypt (a segment that does not
/// authenticate, a file truncated meanwhile), as reported on [`FilmServer::failures`].
#[derive(Debug, Clone)]
pub struct ServeFailure {
    /// The byte range requested.
    pub range: RangeInclusive<u64>,
    /// What went wrong, with its causes.
    pub message: String,
}

/// Counters of what was served.
#[derive(Debug, Default)]
struct Stats {
    requests: AtomicU64,
    bytes: AtomicU64,
}

struct Shared {
    key: FilmKey,
    file: File,
    header: Header,
    token: String,
    media: MediaType,
    pool: Mutex<Vec<MappedFilm>>,
    buffers: Arc<Buffers>,
    stats: Stats,
    failures: mpsc::UnboundedSender<ServeFailure>,
}

impl Shared {
    const fn len(&self) -> u64 {
        self.header.plaintext_len
    }

    /// A mapped reader from the pool, or a new one.
    fn film(&self) -> anyhow::Result<MappedFilm> {
        if let Some(f) = self.pool.lock().ok().and_then(|mut p| p.pop()) {
            return Ok(f);
        }
        MappedFilm::open(&self.key, &self.file).context("mapping the film")
    }

    fn give_back(&self, film: MappedFilm) {
        if let Ok(mut p) = self.pool.lock()
            && p.len() < POOL
        {
            p.push(film);
        }
    }
}

/// A running loopback film server. Dropping it (or [`Self::shutdown`]) stops it.
#[derive(Debug)]
pub struct FilmServer {
    addr: SocketAddr,
    token: String,
    media: MediaType,
    len: u64,
    shared: Arc<Shared>,
    failures: mpsc::UnboundedReceiver<ServeFailure>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl FilmServer {
    /// Maps the film `file` with `key`, authenticates its first segment (a wrong key fails
    /// here), sniffs its type and starts serving it on `127.0.0.1`, port chosen by the kernel.
    pub async fn start(key: FilmKey, file: File) -> anyhow::Result<Self> {
        let (header, media, first) = tokio::task::spawn_blocking({
            let (key, file) = (key.clone(), file.try_clone()?);
            move || -> anyhow::Result<_> {
                let mut film = MappedFilm::open(&key, &file).context("opening the film")?;
                let header = *film.header();
                let media = if header.plaintext_len == 0 {
                    MediaType::sniff(&[])
                } else {
                    MediaType::sniff(film.read_segment(0).context("decrypting the film")?)
                };
                Ok((header, media, film))
            }
        })
        .await??;
        let token = hex::encode(rand::random::<[u8; 16]>());
        let (failures_tx, failures) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            key,
            file,
            header,
            token: token.clone(),
            media,
            pool: Mutex::new(vec![first]),
            buffers: Arc::default(),
            stats: Stats::default(),
            failures: failures_tx,
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("listening on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/{token}/{name}", get(serve_film))
            .fallback(|| async { StatusCode::FORBIDDEN })
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            addr,
            token,
            media,
            len: header.plaintext_len,
            shared,
            failures,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The film's URL: `http://127.0.0.1:<port>/<token>/<film.mp4|film.webm|…>`.
    pub fn url(&self) -> String {
        format!(
            "http://{}/{}/{}",
            self.addr, self.token, self.media.file_name
        )
    }

    /// The address the server listens on.
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The sniffed media type.
    pub const fn media(&self) -> MediaType {
        self.media
    }

    /// The film's plaintext length.
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Whether the film is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Requests answered with the film so far, and plaintext bytes sent.
    pub fn served(&self) -> (u64, u64) {
        let s = &self.shared.stats;
        (
            s.requests.load(Ordering::Relaxed),
            s.bytes.load(Ordering::Relaxed),
        )
    }

    /// Requests that failed because the film did not decrypt, as they happen.
    pub const fn failures(&mut self) -> &mut mpsc::UnboundedReceiver<ServeFailure> {
        &mut self.failures
    }

    /// Stops accepting, lets requests in progress end, and waits for the server.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            // Players keep idle connections open: do not wait for them forever.
            match tokio::time::timeout(std::time::Duration::from_secs(2), &mut task).await {
                Ok(r) => r?.context("the film server")?,
                Err(_) => task.abort(),
            }
        }
        Ok(())
    }
}

impl Drop for FilmServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn serve_film(
    State(s): State<Arc<Shared>>,
    Path((token, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    if !bool::from(token.as_bytes().ct_eq(s.token.as_bytes())) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if name != s.media.file_name {
        return StatusCode::NOT_FOUND.into_response();
    }
    let len = s.len();
    let (status, range) = match headers.get(header::RANGE).map(HeaderValue::to_str) {
        None => (StatusCode::OK, (len > 0).then(|| 0..=len - 1)),
        Some(value) => match value
            .ok()
            .and_then(|v| http_range_header::parse_range_header(v).ok())
            .and_then(|p| p.validate(len).ok())
        {
            Some(ranges) if ranges.len() == 1 => {
                (StatusCode::PARTIAL_CONTENT, ranges.first().cloned())
            }
            _ => {
                return (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response();
            }
        },
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, s.media.mime)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store");
    let sent = range.as_ref().map_or(0, |r| r.end() - r.start() + 1);
    builder = builder.header(header::CONTENT_LENGTH, sent);
    if let Some(r) = &range
        && status == StatusCode::PARTIAL_CONTENT
    {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{len}", r.start(), r.end()),
        );
    }
    let body = match range {
        Some(r) if method != Method::HEAD => {
            s.stats.requests.fetch_add(1, Ordering::Relaxed);
            match stream_range(Arc::clone(&s), r).await {
                Ok(body) => body,
                Err(()) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        _ => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Plaintext chunk buffers, reused: a chunk's buffer comes back here once the socket has taken
/// its bytes. Allocating (and wiping, on drop) a fresh segment-sized buffer per chunk cost more
/// than the decryption: `zeroize` wipes byte by byte, and the allocator hands out fresh pages
/// each time. A buffer is wiped when it leaves the pool for good: beyond [`BUFFERS`] kept, or
/// when the server stops. (A reused buffer holds the plaintext of a chunk already sent until it
/// is overwritten, as the mapped readers' windows kept in their pool do.)
#[derive(Default)]
struct Buffers {
    free: Mutex<Vec<Zeroizing<Vec<u8>>>>,
}

impl Buffers {
    /// A free buffer, or a new one of a segment's capacity (`segment`), so that it never grows:
    /// growing would free the old block without wiping it. A reused buffer keeps its length (and
    /// old plaintext), so that decrypting into it writes each byte once, without zero-filling it
    /// first.
    fn take(&self, segment: usize) -> Zeroizing<Vec<u8>> {
        self.free
            .lock()
            .ok()
            .and_then(|mut f| f.pop())
            .unwrap_or_else(|| Zeroizing::new(Vec::with_capacity(segment)))
    }

    /// The chunk of `buf`'s bytes `range`; `buf` comes back to the pool when the chunk is
    /// dropped.
    fn chunk(self: &Arc<Self>, buf: Zeroizing<Vec<u8>>, range: std::ops::Range<usize>) -> Bytes {
        Bytes::from_owner(PlainChunk {
            buf: Some(buf),
            home: Arc::clone(self),
        })
        .slice(range)
    }

    /// Takes `buf` back into the pool, or drops it (which wipes it) beyond [`BUFFERS`] kept.
    fn put(&self, buf: Zeroizing<Vec<u8>>) {
        if let Ok(mut free) = self.free.lock()
            && free.len() < BUFFERS
        {
            free.push(buf);
        }
    }
}

/// The owner of a chunk's bytes: gives its buffer back to the pool when the chunk is dropped.
struct PlainChunk {
    buf: Option<Zeroizing<Vec<u8>>>,
    home: Arc<Buffers>,
}

impl AsRef<[u8]> for PlainChunk {
    fn as_ref(&self) -> &[u8] {
        self.buf.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl Drop for PlainChunk {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self.home.put(buf);
        }
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// Starts decrypting `range` in a blocking thread; waits for its first chunk, so that a first
/// segment that does not authenticate is answered 500 (`Err`) before any header is sent.
async fn stream_range(s: Arc<Shared>, range: RangeInclusive<u64>) -> Result<Body, ()> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    tokio::task::spawn_blocking(move || produce(&s, range, &tx));
    let first = match rx.recv().await {
        Some(Ok(b)) => b,
        Some(Err(_)) | None => return Err(()),
    };
    let rest =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let stream = futures::StreamExt::chain(futures::stream::iter([Ok(first)]), rest);
    Ok(Body::from_stream(stream))
}

/// Decrypts the segments covering `range` and sends the requested bytes of each; stops when
/// the client goes away. On a failed segment, reports it and sends an error (which cuts the
/// connection).
fn produce(s: &Shared, range: RangeInclusive<u64>, tx: &mpsc::Sender<Chunk>) {
    let fail = |e: anyhow::Error| {
        let message = format!("{e:#}");
        eprintln!(
            "error: bytes {}-{} of the film were not served: {message}",
            range.start(),
            range.end()
        );
        let _ = s.failures.send(ServeFailure {
            range: range.clone(),
            message: message.clone(),
        });
        let _ = tx.blocking_send(Err(std::io::Error::other(message)));
    };
    let mut film = match s.film() {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let seg = u64::from(s.header.segment_size);
    let (mut pos, end) = (*range.start(), *range.end());
    while pos <= end {
        let index = s.header.segment_for_offset(pos);
        let seg_start = index * seg;
        // Decrypted straight into the chunk's buffer: no copy out of the reader's window.
        let mut plain = s.buffers.take(seg as usize);
        if let Err(e) = film.read_segment_into(index, &mut plain) {
            s.buffers.put(plain); // wiped by `read_segment_into`
            return fail(anyhow::Error::new(e).context(format!("decrypting segment {index}")));
        }
        let from = (pos - seg_start) as usize;
        let to = (plain.len() as u64).min(end + 1 - seg_start) as usize;
        let chunk = s.buffers.chunk(plain, from..to);
        if tx.blocking_send(Ok(chunk)).is_err() {
            // The player closed the connection (a seek, or the end).
            break;
        }
        s.stats
            .bytes
            .fetch_add((to - from) as u64, Ordering::Relaxed);
        pos = seg_start + to as u64;
    }
    s.give_back(film);
}

#[cfg(test)]
mod tests {
    use super::MediaType;

    #[test]
    fn sniffs_mp4_webm_matroska_and_anything_else() {
        let mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0";
        assert_eq!(MediaType::sniff(mp4).mime, "video/mp4");
        let mut webm = vec![
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84,
        ];
        webm.extend_from_slice(b"webm");
        assert_eq!(MediaType::sniff(&webm).file_name, "film.webm");
        let mut mkv = webm.clone();
        mkv.truncate(12);
        mkv.extend_from_slice(b"matroska");
        assert_eq!(MediaType::sniff(&mkv).mime, "video/x-matroska");
        assert_eq!(
            MediaType::sniff(b"random bytes here").mime,
            "application/octet-stream"
        );
        assert_eq!(MediaType::sniff(b"").file_name, "film.bin");
    }
}
