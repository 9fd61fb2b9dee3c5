//! Pagination shared by every list: `?limit=N&cursor=C`, answered with
//! `{"items": [...], "next_cursor": C|null, "next": URL|null}`.
//!
//! Cursors are opaque (base64url JSON): an offset for short lists, the last
//! row's key for long ones (keyset pagination, constant cost per page).

use axum::http::Uri;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page size.
pub const MAX_LIMIT: u64 = 500;

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    /// Items per page (1–500, default 50).
    pub limit: Option<u64>,
    /// Where to continue, from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Cursor {
    #[serde(rename = "o")]
    Offset(u64),
    #[serde(rename = "k")]
    Key(String, String),
}

impl PageQuery {
    /// The page size, validated.
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::bad_request(format!(
                "`limit` must be between 1 and {MAX_LIMIT}, not `{n}`"
            ))),
        }
    }

    fn decode(&self) -> Result<Option<Cursor>, ApiError> {
        let Some(text) = &self.cursor else {
            return Ok(None);
        };
        let bad = || ApiError::bad_request(format!("invalid `cursor` `{text}`"));
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
    }

    /// The offset an offset cursor continues at (0 without a cursor).
    pub fn offset(&self) -> Result<u64, ApiError> {
        match self.decode()? {
            None => Ok(0),
            Some(Cursor::Offset(n)) => Ok(n),
            Some(Cursor::Key(..)) => Err(ApiError::bad_request("`cursor` is not for this list")),
        }
    }

    /// The key a keyset cursor continues after.
    pub fn key(&self) -> Result<Option<(String, String)>, ApiError> {
        match self.decode()? {
            None => Ok(None),
            Some(Cursor::Key(a, b)) => Ok(Some((a, b))),
            Some(Cursor::Offset(_)) => Err(ApiError::bad_request("`cursor` is not for this list")),
        }
    }
}

fn encode(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The next page's URL (path and query); `null` on the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// An empty last page.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
            next: None,
        }
    }

    /// A page from `limit + 1` rows fetched at `offset`.
    pub fn from_offset(mut rows: Vec<T>, offset: u64, limit: u64, uri: &Uri) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let cursor = more.then(|| encode(&Cursor::Offset(offset + limit)));
        Self::with_cursor(rows, cursor, uri)
    }

    /// A page from `limit + 1` rows fetched after a key; `key` gives a row's key.
    pub fn from_keyset(
        mut rows: Vec<T>,
        limit: u64,
        uri: &Uri,
        key: impl Fn(&T) -> (String, String),
    ) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let cursor = if more {
            rows.last().map(|last| {
                let (a, b) = key(last);
                encode(&Cursor::Key(a, b))
            })
        } else {
            None
        };
        Self::with_cursor(rows, cursor, uri)
    }

    /// A page of an in-memory list.
    pub fn from_vec(all: Vec<T>, query: &PageQuery, uri: &Uri) -> Result<Self, ApiError> {
        let offset = query.offset()?;
        let limit = query.limit()?;
        let rows: Vec<T> = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
            .collect();
        Ok(Self::from_offset(rows, offset, limit, uri))
    }

    fn with_cursor(items: Vec<T>, next_cursor: Option<String>, uri: &Uri) -> Self {
        let next = next_cursor.as_deref().map(|c| next_link(uri, c));
        Self {
            items,
            next_cursor,
            next,
        }
    }
}

/// `uri` with its `cursor` parameter set to `cursor`.
fn next_link(uri: &Uri, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k != "cursor" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    format!("{}?{}", uri.path(), query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_link_to_the_next_one_and_stop() {
        let uri: Uri = "/api/v1/scans?status=complete&cursor=old&limit=2"
            .parse()
            .unwrap();
        let page = Page::from_offset(vec![1, 2, 3], 0, 2, &uri);
        assert_eq!(page.items, vec![1, 2]);
        let cursor = page.next_cursor.clone().unwrap();
        let next = page.next.unwrap();
        assert!(
            next.starts_with("/api/v1/scans?status=complete&limit=2&cursor="),
            "{next}"
        );
        let q = PageQuery {
            limit: Some(2),
            cursor: Some(cursor),
        };
        assert_eq!(q.offset().unwrap(), 2);
        assert!(q.key().is_err());
        let last = Page::from_offset(vec![3], 2, 2, &uri);
        assert!(last.next_cursor.is_none() && last.next.is_none());
    }

    #[test]
    fn bad_limits_and_cursors_are_rejected() {
        for limit in [0, MAX_LIMIT + 1] {
            let q = PageQuery {
                limit: Some(limit),
                cursor: None,
            };
            assert_eq!(q.limit().unwrap_err().code, "bad_request");
        }
        let q = PageQuery {
            limit: None,
            cursor: Some("%%%".into()),
        };
        assert!(q.offset().is_err());
    }
}
