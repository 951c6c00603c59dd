//! The S3 backend: an `object_store` client over our own HTTP/1 connector (hyper + rustls
//! with ring, so no aws-lc build), and the clean-up of multipart uploads a crash left open.
//!
//! `object_store` cannot list unfinished multipart uploads, so recovery signs the two
//! requests it needs (ListMultipartUploads, AbortMultipartUpload) itself with
//! `object_store`'s SigV4 signer and sends them through the same connector.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::{ClientOptions, RetryConfig};

use crate::config::S3Config;
use crate::error::{Result, StoreError, one_line};

/// How long opening a TCP connection to the S3 endpoint may take.
pub const S3_CONNECT_SECS_MAX: u64 = 10;
/// How long the S3 endpoint may take to answer a request with its status and headers.
pub const S3_RESPONSE_SECS_MAX: u64 = 60;
/// How long `object_store` keeps retrying one failed request.
pub const S3_RETRY_SECS_MAX: u64 = 120;
/// Most pages of unfinished multipart uploads recovery reads (S3 returns up to 1000 a page).
pub const MULTIPART_LIST_PAGES_MAX: usize = 1000;
/// Largest ListMultipartUploads response body recovery reads.
const LIST_RESPONSE_BYTES_MAX: usize = 16 << 20;

/// The HTTP client type shared by `object_store` and the recovery requests.
type HyperClient = Client<hyper_rustls::HttpsConnector<TcpConnector>, HttpRequestBody>;

/// Builds `object_store`'s HTTP clients on hyper and rustls.
#[derive(Debug, Clone)]
struct Connector {
    allow_http: bool,
}

impl Connector {
    fn client(&self) -> Result<HyperClient> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone())
        {
            Ok(builder) => builder,
            // No system certificates: plain-HTTP endpoints still work, any TLS handshake fails.
            Err(_) => {
                let tls = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| StoreError::Invalid { what: "TLS configuration", problem: one_line(&e) })?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls)
            }
        };
        let builder = if self.allow_http { builder.https_or_http() } else { builder.https_only() };
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(Duration::from_secs(S3_CONNECT_SECS_MAX)));
        tcp.set_nodelay(true);
        let https = builder.enable_http1().wrap_connector(tcp);
        Ok(Client::builder(TokioExecutor::new()).build(https))
    }
}

impl HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = self.client().map_err(|e| object_store::Error::Generic { store: "S3", source: Box::new(e) })?;
        Ok(HttpClient::new(Service { client }))
    }
}

/// One `object_store` HTTP client.
#[derive(Debug)]
struct Service {
    client: HyperClient,
}

#[async_trait::async_trait]
impl HttpService for Service {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        send(&self.client, request).await
    }
}

async fn send(client: &HyperClient, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let response = tokio::time::timeout(Duration::from_secs(S3_RESPONSE_SECS_MAX), client.request(request))
        .await
        .map_err(|elapsed| HttpError::new(HttpErrorKind::Timeout, elapsed))?
        .map_err(|e| {
            let kind = if e.is_connect() { HttpErrorKind::Connect } else { HttpErrorKind::Request };
            HttpError::new(kind, e)
        })?;
    let (parts, body) = response.into_parts();
    let body = body.map_err(|e| {
        let kind = if e.is_timeout() { HttpErrorKind::Timeout } else { HttpErrorKind::Interrupted };
        HttpError::new(kind, e)
    });
    Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
}

/// A bucket opened for the store: the object store and what recovery needs besides.
pub(crate) struct Bucket {
    pub(crate) store: Arc<AmazonS3>,
    cleanup: Cleanup,
}

impl std::fmt::Debug for Bucket {
    // Only the bucket: the clients below hold the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket").field("bucket", &self.cleanup.bucket).finish_non_exhaustive()
    }
}

/// What recovery needs to list and abort multipart uploads.
struct Cleanup {
    client: HyperClient,
    base_url: String,
    bucket: String,
    region: String,
    credential: AwsCredential,
}

impl std::fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cleanup")
            .field("base_url", &self.base_url)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

/// Validates `config` and builds the bucket's clients (no request is sent yet).
pub(crate) fn open(config: &S3Config) -> Result<Bucket> {
    let invalid = |problem: &str| StoreError::Invalid { what: "S3 configuration", problem: problem.to_owned() };
    if config.bucket.is_empty() {
        return Err(invalid("the bucket name is empty"));
    }
    if config.region.is_empty() {
        return Err(invalid("the region is empty"));
    }
    if config.access_key_id.is_empty() || config.secret_access_key.is_empty() {
        return Err(invalid("the access key id or the secret access key is empty"));
    }
    let base_url = match &config.endpoint {
        Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
        None => format!("https://s3.{}.amazonaws.com", config.region),
    };
    if base_url.starts_with("http://") && !config.allow_http {
        return Err(invalid("the endpoint is plain http:// but allow_http is false"));
    }
    if !base_url.starts_with("http://") && !base_url.starts_with("https://") {
        return Err(invalid("the endpoint must start with http:// or https://"));
    }
    let connector = Connector { allow_http: config.allow_http };
    let retry = RetryConfig { retry_timeout: Duration::from_secs(S3_RETRY_SECS_MAX), ..RetryConfig::default() };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_access_key_id(&config.access_key_id)
        .with_secret_access_key(&config.secret_access_key)
        .with_allow_http(config.allow_http)
        .with_retry(retry)
        .with_http_connector(connector.clone());
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    // The builder's error names the bad setting, never the credentials.
    let store = builder.build().map_err(|e| invalid(&one_line(&e)))?;
    let cleanup = Cleanup {
        client: connector.client()?,
        base_url,
        bucket: config.bucket.clone(),
        region: config.region.clone(),
        credential: AwsCredential {
            key_id: config.access_key_id.clone(),
            secret_key: config.secret_access_key.clone(),
            token: None,
        },
    };
    Ok(Bucket { store: Arc::new(store), cleanup })
}

/// An unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) key: String,
    pub(crate) upload_id: String,
}

impl Bucket {
    /// The bucket's name.
    pub(crate) fn name(&self) -> &str {
        &self.cleanup.bucket
    }

    /// Every unfinished multipart upload in the bucket.
    pub(crate) async fn unfinished_uploads(&self) -> Result<Vec<Upload>> {
        let c = &self.cleanup;
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        for _ in 0..MULTIPART_LIST_PAGES_MAX {
            let mut url = format!("{}/{}?uploads", c.base_url, encode(&c.bucket, false));
            if let Some((key, id)) = &markers {
                url.push_str(&format!("&key-marker={}&upload-id-marker={}", encode(key, true), encode(id, true)));
            }
            let body = self.signed(http::Method::GET, &url, "list multipart uploads in").await?;
            let page = ListPage::parse(&body);
            uploads.extend(page.uploads);
            match page.next {
                Some(next) if page.truncated => markers = Some(next),
                _ => return Ok(uploads),
            }
        }
        Err(StoreError::Blob {
            op: "list multipart uploads in",
            key: format!("bucket {}", c.bucket),
            reason: format!("more than {MULTIPART_LIST_PAGES_MAX} pages"),
        })
    }

    /// Aborts one multipart upload, dropping the parts it holds.
    pub(crate) async fn abort_upload(&self, upload: &Upload) -> Result<()> {
        let c = &self.cleanup;
        let url = format!(
            "{}/{}/{}?uploadId={}",
            c.base_url,
            encode(&c.bucket, false),
            encode(&upload.key, false),
            encode(&upload.upload_id, true)
        );
        self.signed(http::Method::DELETE, &url, "abort the multipart upload of").await.map(drop)
    }

    /// Sends a signed request with an empty body; returns the body of a 2xx answer.
    async fn signed(&self, method: http::Method, url: &str, op: &'static str) -> Result<String> {
        let c = &self.cleanup;
        let failed = |reason: String| StoreError::Blob { op, key: format!("bucket {}", c.bucket), reason };
        let mut request = http::Request::builder()
            .method(method)
            .uri(url)
            .body(HttpRequestBody::empty())
            .map_err(|e| failed(one_line(&e)))?;
        AwsAuthorizer::new(&c.credential, "s3", &c.region)
            .try_authorize(&mut request, None)
            .map_err(|e| failed(one_line(&e)))?;
        let response = send(&c.client, request).await.map_err(|e| failed(one_line(&e)))?;
        let status = response.status();
        let body = read_limited(response.into_body(), LIST_RESPONSE_BYTES_MAX).await.map_err(failed)?;
        if !status.is_success() {
            return Err(failed(format!("status {status}: {}", one_line(&body))));
        }
        Ok(body)
    }
}

async fn read_limited(mut body: HttpResponseBody, bytes_max: usize) -> std::result::Result<String, String> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| one_line(&e))?;
        if let Some(data) = frame.data_ref() {
            if out.len() + data.len() > bytes_max {
                return Err(format!("response larger than {bytes_max} bytes"));
            }
            out.extend_from_slice(data);
        }
    }
    String::from_utf8(out).map_err(|_| "response is not UTF-8".to_owned())
}

/// Percent-encodes `s` for a URL path segment (keeping `/` unless `query`) or query value.
fn encode(s: &str, query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'/' if !query => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One page of a ListMultipartUploads answer.
#[derive(Debug, Default, PartialEq, Eq)]
struct ListPage {
    uploads: Vec<Upload>,
    truncated: bool,
    next: Option<(String, String)>,
}

impl ListPage {
    /// Reads the few elements recovery needs from the XML answer.
    fn parse(xml: &str) -> ListPage {
        let mut page =
            ListPage { truncated: element(xml, "IsTruncated").as_deref() == Some("true"), ..ListPage::default() };
        let mut rest = xml;
        while let Some(start) = rest.find("<Upload>") {
            let after = &rest[start + "<Upload>".len()..];
            let end = after.find("</Upload>").unwrap_or(after.len());
            let block = &after[..end];
            if let (Some(key), Some(upload_id)) = (element(block, "Key"), element(block, "UploadId")) {
                page.uploads.push(Upload { key, upload_id });
            }
            rest = &after[end..];
        }
        if let (Some(key), Some(id)) = (element(xml, "NextKeyMarker"), element(xml, "NextUploadIdMarker")) {
            page.next = Some((key, id));
        }
        page
    }
}

/// The unescaped text of the first `<name>` element in `xml`.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    let text = &xml[start..start + len];
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_page_reads_uploads_and_markers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult><Bucket>b</Bucket><NextKeyMarker>ab/x</NextKeyMarker>
<NextUploadIdMarker>id2</NextUploadIdMarker><IsTruncated>true</IsTruncated>
<Upload><Key>ab/x</Key><UploadId>id1</UploadId><Initiator><ID>me</ID></Initiator></Upload>
<Upload><Key>a&amp;b</Key><UploadId>id2</UploadId></Upload></ListMultipartUploadsResult>"#;
        let page = ListPage::parse(xml);
        assert!(page.truncated);
        assert_eq!(page.next, Some(("ab/x".into(), "id2".into())));
        let keys: Vec<_> = page.uploads.iter().map(|u| (u.key.as_str(), u.upload_id.as_str())).collect();
        assert_eq!(keys, [("ab/x", "id1"), ("a&b", "id2")]);
    }

    #[test]
    fn list_page_of_nothing_is_empty() {
        let page = ListPage::parse(
            "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>",
        );
        assert_eq!(page, ListPage::default());
    }

    #[test]
    fn encoding_keeps_unreserved_bytes() {
        assert_eq!(encode("ab/c d+e", false), "ab/c%20d%2Be");
        assert_eq!(encode("a/b=", true), "a%2Fb%3D");
    }

    #[test]
    fn https_endpoint_builds_a_tls_client() {
        let config = S3Config {
            bucket: "b".into(),
            region: "eu-west-1".into(),
            endpoint: None,
            access_key_id: "key".into(),
            secret_access_key: "secret".into(),
            allow_http: false,
        };
        let bucket = open(&config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bucket.cleanup.base_url, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(bucket.name(), "b");
    }

    #[test]
    fn plain_http_needs_allow_http() {
        let config = S3Config {
            bucket: "b".into(),
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            access_key_id: "key".into(),
            secret_access_key: "super-secret-value".into(),
            allow_http: false,
        };
        let err = open(&config).map(drop).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("allow_http"), "{err}");
        assert!(!err.contains("super-secret-value"));
    }
}
