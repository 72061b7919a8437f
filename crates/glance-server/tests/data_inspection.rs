//! Format inspection on `PUT /file`: data must be what `disk_format` says and pass its
//! format's safety checks, or the upload is refused with upstream's 415 and the image
//! stays exactly as it was, so a corrected upload to the same image then succeeds.
//! The images here are built byte by byte; glance-format's corpus test covers real
//! qemu-img output.

mod common;

use axum::http::{Method, StatusCode};
use common::{assert_pristine, show, TestServer};
use serde_json::{json, Value};

const GIB: u64 = 1 << 30;

/// A qcow2 image: a big-endian header and zero clusters after it.
fn qcow2(version: u32, virtual_size: u64, backing_offset: u64, incompatible: u64) -> Vec<u8> {
    let mut b = vec![0u8; 256 * 1024];
    b[..4].copy_from_slice(b"QFI\xfb");
    b[4..8].copy_from_slice(&version.to_be_bytes());
    b[8..16].copy_from_slice(&backing_offset.to_be_bytes());
    b[20..24].copy_from_slice(&16u32.to_be_bytes()); // cluster_bits
    b[24..32].copy_from_slice(&virtual_size.to_be_bytes());
    b[0x48..0x50].copy_from_slice(&incompatible.to_be_bytes());
    b
}

fn random_raw(n: usize) -> Vec<u8> {
    // Deterministic bytes with no format's magic at any header offset.
    (0..n).map(|i| ((i * 7919 + 13) % 251) as u8 | 1).collect()
}

const MBR_DISK_SIZE: usize = 2 << 20;

/// An MBR disk with one partition; `boot_flag` other than 0x00/0x80 is malformed.
fn mbr_disk(boot_flag: u8) -> Vec<u8> {
    let mut b = vec![0u8; MBR_DISK_SIZE];
    let entry = &mut b[446..462];
    entry[0] = boot_flag;
    entry[4] = 0x83;
    entry[8..12].copy_from_slice(&2048u32.to_le_bytes());
    entry[12..16].copy_from_slice(&(MBR_DISK_SIZE as u32 / 512 - 2048).to_le_bytes());
    b[510] = 0x55;
    b[511] = 0xAA;
    b
}

async fn image(s: &TestServer, disk: &str, container: &str) -> String {
    let image = s
        .create_image(json!({"name": "i", "disk_format": disk, "container_format": container}))
        .await;
    image["id"].as_str().unwrap().to_string()
}

async fn upload(s: &TestServer, id: &str, data: Vec<u8>) -> common::TestResponse {
    s.put_data(&format!("/v2/images/{id}/file"), data).await
}

fn message(r: &common::TestResponse) -> String {
    r.json()["message"].as_str().unwrap_or_default().to_string()
}

const WEBOB_415: &str = "The request media type application/octet-stream is not supported by this server.\n<br /><br />\n";

#[tokio::test]
async fn matching_qcow2_is_accepted_with_its_virtual_size() {
    let s = common::server().await;
    let id = image(&s, "qcow2", "bare").await;
    let r = upload(&s, &id, qcow2(3, 10 * GIB, 0, 0)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let img = show(&s, &id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["virtual_size"], 10 * GIB);
    assert_eq!(img["size"], 256 * 1024);
}

#[tokio::test]
async fn raw_bytes_declared_qcow2_are_refused_then_a_real_qcow2_is_accepted() {
    let s = common::server().await;
    let id = image(&s, "qcow2", "bare").await;
    let r = upload(&s, &id, random_raw(3 << 20)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        message(&r),
        format!("{WEBOB_415}Image disk_format qcow2 does not match stream data raw")
    );
    // Unlike upstream (which keeps the checksum and a stale file, so every retry
    // fails), nothing of the refused data remains.
    assert_pristine(&s, &id).await;
    let r = upload(&s, &id, qcow2(2, GIB, 0, 0)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let img = show(&s, &id).await;
    assert_eq!(
        (img["status"].as_str(), img["virtual_size"].as_u64()),
        (Some("active"), Some(GIB))
    );
    assert_eq!(s.stored_files().len(), 1);
}

#[tokio::test]
async fn refusal_page_is_webob_html_for_browsers() {
    let s = common::server().await;
    let id = image(&s, "qcow2", "bare").await;
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/file"),
            &[
                ("content-type", "application/octet-stream"),
                ("accept", "*/*"),
            ],
            random_raw(4096),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    assert_eq!(
        r.text(),
        "<html>\n <head>\n  <title>415 Unsupported Media Type</title>\n </head>\n <body>\n  \
         <h1>415 Unsupported Media Type</h1>\n  The request media type application/octet-stream \
         is not supported by this server.\n<br /><br />\nImage disk_format qcow2 does not match \
         stream data raw\n </body>\n</html>"
    );
}

#[tokio::test]
async fn unsafe_qcow2_is_refused_whatever_it_is_declared_as() {
    let s = common::server().await;
    let backing = qcow2(3, GIB, 0x200, 0);
    let data_file = qcow2(3, GIB, 0, 1 << 2);
    let unknown_feature = qcow2(3, GIB, 0, 1 << 5);
    let version1 = qcow2(1, GIB, 0, 0);
    for (disk, data) in [
        ("qcow2", backing.clone()),
        ("raw", backing),
        ("qcow2", data_file),
        ("qcow2", unknown_feature),
        ("qcow2", version1),
    ] {
        let id = image(&s, disk, "bare").await;
        let r = upload(&s, &id, data).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{disk}");
        assert_eq!(
            message(&r),
            format!("{WEBOB_415}Image failed safety checks")
        );
        assert_pristine(&s, &id).await;
    }
}

#[tokio::test]
async fn declared_raw_accepts_safe_formats_with_the_byte_count_as_virtual_size() {
    let s = common::server().await;
    let id = image(&s, "raw", "bare").await;
    let data = qcow2(3, 10 * GIB, 0, 0);
    let len = data.len() as u64;
    assert_eq!(upload(&s, &id, data).await.status, StatusCode::NO_CONTENT);
    assert_eq!(show(&s, &id).await["virtual_size"], len);
}

#[tokio::test]
async fn uninspectable_formats_take_unrecognised_data_but_not_other_formats() {
    let s = common::server().await;
    let kernel = image(&s, "aki", "aki").await;
    // Not bare: not inspected at all.
    assert_eq!(
        upload(&s, &kernel, qcow2(3, GIB, 0, 0)).await.status,
        StatusCode::NO_CONTENT
    );
    let ami = image(&s, "ami", "bare").await;
    assert_eq!(
        upload(&s, &ami, random_raw(8192)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(show(&s, &ami).await["virtual_size"], Value::Null);
    let ami = image(&s, "ami", "bare").await;
    let r = upload(&s, &ami, qcow2(3, GIB, 0, 0)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&r).ends_with("Image disk_format ami does not match stream data qcow2"));
    assert_pristine(&s, &ami).await;
}

#[tokio::test]
async fn polyglots_are_refused() {
    let s = common::server().await;
    let id = image(&s, "qcow2", "bare").await;
    let mut data = qcow2(3, GIB, 0, 0);
    // An ISO 9660 primary volume descriptor where ISO keeps it, inside the qcow2.
    data[32768] = 1;
    data[32769..32774].copy_from_slice(b"CD001");
    let r = upload(&s, &id, data).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        message(&r).ends_with("Multiple formats detected: qcow2,iso"),
        "{}",
        message(&r)
    );
    assert_pristine(&s, &id).await;
}

#[tokio::test]
async fn format_match_can_be_relaxed_but_safety_cannot() {
    let s = common::server_with("[image_format]\nrequire_image_format_match = false\n").await;
    let id = image(&s, "qcow2", "bare").await;
    assert_eq!(
        upload(&s, &id, random_raw(4096)).await.status,
        StatusCode::NO_CONTENT
    );
    let img = show(&s, &id).await;
    assert_eq!(
        (img["status"].as_str(), &img["virtual_size"]),
        (Some("active"), &Value::Null)
    );
    // A mismatch is tolerated, but the data's own safety checks still apply.
    let id = image(&s, "vhd", "bare").await;
    let r = upload(&s, &id, qcow2(3, GIB, 0x200, 0)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_pristine(&s, &id).await;
}

#[tokio::test]
async fn mbr_checks_can_be_made_non_fatal() {
    let strict = common::server().await;
    let id = image(&strict, "raw", "bare").await;
    assert_eq!(
        upload(&strict, &id, mbr_disk(0x80)).await.status,
        StatusCode::NO_CONTENT
    );
    let id = image(&strict, "raw", "bare").await;
    let r = upload(&strict, &id, mbr_disk(0x7f)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_pristine(&strict, &id).await;

    let lenient = common::server_with("[image_format]\ngpt_safety_checks_nonfatal = mbr\n").await;
    let id = image(&lenient, "raw", "bare").await;
    assert_eq!(
        upload(&lenient, &id, mbr_disk(0x7f)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(show(&lenient, &id).await["virtual_size"], MBR_DISK_SIZE);
}

#[tokio::test]
async fn huge_declared_virtual_size_is_refused() {
    let s = common::server().await;
    let id = image(&s, "qcow2", "bare").await;
    let r = upload(&s, &id, qcow2(3, u64::MAX - 15, 0, 0)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&r).contains("virtual size"), "{}", message(&r));
    assert_pristine(&s, &id).await;
}

#[tokio::test]
async fn vmdk_allowed_types_narrows_what_is_accepted() {
    // A monolithicSparse VMDK: header, then the descriptor at sector 1.
    let mut vmdk = vec![0u8; 64 * 1024];
    vmdk[..4].copy_from_slice(b"KDMV");
    vmdk[4..8].copy_from_slice(&1u32.to_le_bytes());
    vmdk[12..20].copy_from_slice(&(2 * 1024 * 1024u64).to_le_bytes()); // 1 GiB in sectors
    vmdk[28..36].copy_from_slice(&1u64.to_le_bytes()); // descriptor at sector 1
    vmdk[36..44].copy_from_slice(&20u64.to_le_bytes()); // 20 sectors long
    let desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
                createType=\"monolithicSparse\"\n\n# Extent description\n\
                RW 2097152 SPARSE \"disk.vmdk\"\n\nddb.virtualHWVersion = \"4\"\n";
    vmdk[512..512 + desc.len()].copy_from_slice(desc.as_bytes());

    let s = common::server().await;
    let id = image(&s, "vmdk", "bare").await;
    assert_eq!(
        upload(&s, &id, vmdk.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(show(&s, &id).await["virtual_size"], GIB);

    let s = common::server_with("[image_format]\nvmdk_allowed_types = streamOptimized\n").await;
    let id = image(&s, "vmdk", "bare").await;
    let r = upload(&s, &id, vmdk).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&r).ends_with("Invalid VMDK create-type specified"));
    assert_pristine(&s, &id).await;
}
