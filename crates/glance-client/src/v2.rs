//! The Image API v2: images, data, members, tags, import, stores and tasks. Images are
//! returned as the JSON the server sends (their schema is open: any extra property).

use bytes::Bytes;
use futures_util::Stream;
use hyper::Method;
use serde_json::{json, Value};

use crate::error::{ClientError, ClientResult};
use crate::transport::RequestBody;
use crate::v1::ImageData;
use crate::{query_string, GlanceClient};

const JSON: &str = "application/json";
const PATCH: &str = "application/openstack-images-v2.1-json-patch";

fn seg(part: &str) -> String {
    form_urlencoded::byte_serialize(part.as_bytes()).collect()
}

/// The data of an image (`GET /v2/images/{id}/file`); `None` when it has none (204).
pub struct ImageDownload {
    pub size: Option<u64>,
    /// `Content-MD5`: the image's checksum, to verify what arrived.
    pub checksum: Option<String>,
    pub stream: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

impl GlanceClient {
    async fn get_json(&self, path: &str) -> ClientResult<Value> {
        self.transport
            .call(Method::GET, path, &[], RequestBody::Empty)
            .await?
            .json()
            .await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Value,
    ) -> ClientResult<Value> {
        let answer = self
            .transport
            .call(
                method,
                path,
                &[("content-type", content_type.to_string())],
                RequestBody::json(&body),
            )
            .await?;
        if answer.status == hyper::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let bytes = answer.bytes().await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Protocol(format!("the answer is not JSON ({e})")))
    }

    async fn no_content(&self, method: Method, path: &str) -> ClientResult<()> {
        self.transport
            .call(method, path, &[], RequestBody::Empty)
            .await?;
        Ok(())
    }

    /// `GET /v2/images` following `next` links until `limit` images (all when None)
    /// have been read; `params` are the filters and sorting of the API.
    pub async fn list_images(
        &self,
        params: &[(String, String)],
        limit: Option<usize>,
    ) -> ClientResult<Vec<Value>> {
        let mut images = Vec::new();
        let mut path = format!("/v2/images{}", query_string(params));
        loop {
            let page = self.get_json(&path).await?;
            for image in page["images"].as_array().into_iter().flatten() {
                if limit.is_some_and(|l| images.len() >= l) {
                    return Ok(images);
                }
                images.push(image.clone());
            }
            match page["next"].as_str() {
                Some(next) if limit.is_none_or(|l| images.len() < l) => path = next.to_string(),
                _ => return Ok(images),
            }
        }
    }

    pub async fn show_image(&self, id: &str) -> ClientResult<Value> {
        self.get_json(&format!("/v2/images/{}", seg(id))).await
    }

    /// `POST /v2/images` with core attributes and extra properties.
    pub async fn create_image(&self, body: &Value) -> ClientResult<Value> {
        self.send_json(Method::POST, "/v2/images", JSON, body.clone())
            .await
    }

    /// `PATCH /v2/images/{id}` with JSON-patch operations.
    pub async fn patch_image(&self, id: &str, ops: &[Value]) -> ClientResult<Value> {
        self.send_json(
            Method::PATCH,
            &format!("/v2/images/{}", seg(id)),
            PATCH,
            Value::from(ops.to_vec()),
        )
        .await
    }

    pub async fn remove_image(&self, id: &str) -> ClientResult<()> {
        self.no_content(Method::DELETE, &format!("/v2/images/{}", seg(id)))
            .await
    }

    pub async fn deactivate_image(&self, id: &str) -> ClientResult<()> {
        self.no_content(
            Method::POST,
            &format!("/v2/images/{}/actions/deactivate", seg(id)),
        )
        .await
    }

    pub async fn reactivate_image(&self, id: &str) -> ClientResult<()> {
        self.no_content(
            Method::POST,
            &format!("/v2/images/{}/actions/reactivate", seg(id)),
        )
        .await
    }

    async fn put_data(
        &self,
        path: String,
        data: ImageData,
        store: Option<&str>,
    ) -> ClientResult<()> {
        let mut headers = vec![("content-type", "application/octet-stream".to_string())];
        match data.size {
            Some(size) => headers.push(("content-length", size.to_string())),
            None => headers.push(("transfer-encoding", "chunked".to_string())),
        }
        if let Some(store) = store {
            headers.push(("x-image-meta-store", store.to_string()));
        }
        self.transport
            .call(
                Method::PUT,
                &path,
                &headers,
                RequestBody::Stream(data.stream),
            )
            .await?;
        Ok(())
    }

    /// `PUT /v2/images/{id}/file`, into `store` when given (multi-store).
    pub async fn upload_image(
        &self,
        id: &str,
        data: ImageData,
        store: Option<&str>,
    ) -> ClientResult<()> {
        self.put_data(format!("/v2/images/{}/file", seg(id)), data, store)
            .await
    }

    /// `PUT /v2/images/{id}/stage` (interoperable import, glance-direct).
    pub async fn stage_image(&self, id: &str, data: ImageData) -> ClientResult<()> {
        self.put_data(format!("/v2/images/{}/stage", seg(id)), data, None)
            .await
    }

    /// `POST /v2/images/{id}/import` with a method document such as
    /// `{"method": {"name": "glance-direct"}}`; `store` is the single target store
    /// (`x-image-meta-store`), `stores` in the body names several.
    pub async fn import_image(
        &self,
        id: &str,
        body: &Value,
        store: Option<&str>,
    ) -> ClientResult<()> {
        let mut headers = vec![("content-type", JSON.to_string())];
        if let Some(store) = store {
            headers.push(("x-image-meta-store", store.to_string()));
        }
        self.transport
            .call(
                Method::POST,
                &format!("/v2/images/{}/import", seg(id)),
                &headers,
                RequestBody::json(body),
            )
            .await?;
        Ok(())
    }

    pub async fn download_image(&self, id: &str) -> ClientResult<Option<ImageDownload>> {
        let answer = self
            .transport
            .call(
                Method::GET,
                &format!("/v2/images/{}/file", seg(id)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        if answer.status == hyper::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let size = answer.header("content-length").and_then(|v| v.parse().ok());
        let checksum = answer.header("content-md5").map(str::to_string);
        Ok(Some(ImageDownload {
            size,
            checksum,
            stream: Box::pin(answer.into_stream()),
        }))
    }

    pub async fn add_tag(&self, id: &str, tag: &str) -> ClientResult<()> {
        self.no_content(
            Method::PUT,
            &format!("/v2/images/{}/tags/{}", seg(id), seg(tag)),
        )
        .await
    }

    pub async fn delete_tag(&self, id: &str, tag: &str) -> ClientResult<()> {
        self.no_content(
            Method::DELETE,
            &format!("/v2/images/{}/tags/{}", seg(id), seg(tag)),
        )
        .await
    }

    pub async fn list_members(&self, id: &str) -> ClientResult<Vec<Value>> {
        let body = self
            .get_json(&format!("/v2/images/{}/members", seg(id)))
            .await?;
        Ok(body["members"].as_array().cloned().unwrap_or_default())
    }

    pub async fn create_member(&self, id: &str, member: &str) -> ClientResult<Value> {
        self.send_json(
            Method::POST,
            &format!("/v2/images/{}/members", seg(id)),
            JSON,
            json!({"member": member}),
        )
        .await
    }

    /// Accepts or rejects a share: `status` is `pending`, `accepted` or `rejected`.
    pub async fn update_member(&self, id: &str, member: &str, status: &str) -> ClientResult<Value> {
        self.send_json(
            Method::PUT,
            &format!("/v2/images/{}/members/{}", seg(id), seg(member)),
            JSON,
            json!({"status": status}),
        )
        .await
    }

    pub async fn delete_member_v2(&self, id: &str, member: &str) -> ClientResult<()> {
        self.no_content(
            Method::DELETE,
            &format!("/v2/images/{}/members/{}", seg(id), seg(member)),
        )
        .await
    }

    /// `GET /v2/info/import`: the import methods the server offers.
    pub async fn import_info(&self) -> ClientResult<Value> {
        self.get_json("/v2/info/import").await
    }

    /// `GET /v2/info/stores` (or `/detail`, admin only).
    pub async fn stores_info(&self, detail: bool) -> ClientResult<Value> {
        self.get_json(if detail {
            "/v2/info/stores/detail"
        } else {
            "/v2/info/stores"
        })
        .await
    }

    /// `DELETE /v2/stores/{store}/{id}`: removes one store's copy of an image.
    pub async fn delete_from_store(&self, store: &str, id: &str) -> ClientResult<()> {
        self.no_content(
            Method::DELETE,
            &format!("/v2/stores/{}/{}", seg(store), seg(id)),
        )
        .await
    }

    /// `GET /v2/tasks` with the API's filters, following `next` links to the end.
    pub async fn list_tasks(&self, params: &[(String, String)]) -> ClientResult<Vec<Value>> {
        let mut tasks = Vec::new();
        let mut path = format!("/v2/tasks{}", query_string(params));
        loop {
            let page = self.get_json(&path).await?;
            tasks.extend(page["tasks"].as_array().into_iter().flatten().cloned());
            match page["next"].as_str() {
                Some(next) => path = next.to_string(),
                None => return Ok(tasks),
            }
        }
    }

    /// `POST /v2/tasks` with `{"type": ..., "input": {...}}`.
    pub async fn create_task(&self, body: &Value) -> ClientResult<Value> {
        self.send_json(Method::POST, "/v2/tasks", JSON, body.clone())
            .await
    }

    pub async fn show_task(&self, id: &str) -> ClientResult<Value> {
        self.get_json(&format!("/v2/tasks/{}", seg(id))).await
    }

    /// `GET /v2/images/{id}/tasks` (2.12).
    pub async fn image_tasks(&self, id: &str) -> ClientResult<Vec<Value>> {
        let body = self
            .get_json(&format!("/v2/images/{}/tasks", seg(id)))
            .await?;
        Ok(body["tasks"].as_array().cloned().unwrap_or_default())
    }
}
