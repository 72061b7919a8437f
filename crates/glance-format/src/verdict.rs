//! Upstream Glance's decision on an inspected upload (`glance/location.py`,
//! `set_data`): does the data match the declared `disk_format`, is it safe, and what
//! virtual size to record. Import and conversion reuse the same decision.

use crate::{CheckError, DiskFormat, Inspection};

/// `[image_format]` options that shape the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatPolicy {
    /// Refuse data whose detected format differs from `disk_format` (default true).
    pub require_image_format_match: bool,
    /// Safety checks that only warn for GPT/MBR data (e.g. `mbr`).
    pub gpt_safety_checks_nonfatal: Vec<String>,
    /// The VMDK createTypes accepted (default streamOptimized, monolithicSparse).
    pub vmdk_allowed_types: Vec<String>,
}

impl Default for FormatPolicy {
    fn default() -> Self {
        Self {
            require_image_format_match: true,
            gpt_safety_checks_nonfatal: Vec::new(),
            vmdk_allowed_types: vec!["streamOptimized".into(), "monolithicSparse".into()],
        }
    }
}

/// Data that may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The format the data was judged to be.
    pub detected: DiskFormat,
    /// The virtual size to record; None leaves the image's field as it is.
    pub virtual_size: Option<u64>,
    /// What was tolerated (a mismatch with `require_image_format_match` off, non-fatal
    /// GPT checks), for the log.
    pub warnings: Vec<String>,
}

/// Data that must not be stored; the message is what the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Decides on `inspection` for an image declared as `disk_format`.
pub fn judge(
    inspection: &Inspection,
    disk_format: &str,
    policy: &FormatPolicy,
) -> Result<Accepted, Refusal> {
    let mut warnings = Vec::new();
    let tolerate = |message: String, warnings: &mut Vec<String>| {
        if policy.require_image_format_match {
            Err(Refusal(message))
        } else {
            warnings.push(message);
            Ok(())
        }
    };

    let matches = inspection.matches();
    // A bootable ISO may legitimately carry a partition table in its system area.
    let detected = if matches == [DiskFormat::Iso, DiskFormat::Gpt] {
        DiskFormat::Iso
    } else if matches.len() > 1 {
        let names: Vec<&str> = matches.iter().map(|f| f.name()).collect();
        tolerate(
            format!("Multiple formats detected: {}", names.join(",")),
            &mut warnings,
        )?;
        // Tolerated: every format the data claims to be must still be safe.
        for format in &matches {
            safety(inspection, *format, policy, &mut warnings)?;
        }
        return Ok(Accepted {
            detected: DiskFormat::Raw,
            virtual_size: None,
            warnings,
        });
    } else {
        matches[0]
    };

    let mut virtual_size = 0;
    if detected.name() == disk_format {
        virtual_size = inspection
            .virtual_size(detected)
            .map_err(|why| Refusal(format!("Image virtual size is invalid: {why}")))?;
    } else if detected == DiskFormat::Raw && DiskFormat::from_name(disk_format).is_none() {
        // Formats nothing can inspect (ami, aki, ari, ploop) pass when the data is
        // not recognisably something else.
    } else if disk_format == "raw" {
        // Declared raw: the bytes are the disk, whatever they look like.
        virtual_size = inspection.total_bytes();
    } else {
        tolerate(
            format!("Image disk_format {disk_format} does not match stream data {detected}"),
            &mut warnings,
        )?;
    }
    // Stricter than upstream, which skips the safety checks after a tolerated mismatch:
    // they run on whatever the data turned out to be.
    safety(inspection, detected, policy, &mut warnings)?;
    if virtual_size > i64::MAX as u64 {
        return Err(Refusal(format!(
            "Image virtual size {virtual_size} is out of range"
        )));
    }
    Ok(Accepted {
        detected,
        virtual_size: (virtual_size > 0).then_some(virtual_size),
        warnings,
    })
}

fn safety(
    inspection: &Inspection,
    format: DiskFormat,
    policy: &FormatPolicy,
    warnings: &mut Vec<String>,
) -> Result<(), Refusal> {
    match inspection.safety_check(format) {
        Ok(()) => {}
        Err(CheckError::Failed(failures)) => {
            let fatal = failures.iter().any(|f| {
                !policy
                    .gpt_safety_checks_nonfatal
                    .iter()
                    .any(|n| n == f.check)
            });
            if format == DiskFormat::Gpt && !fatal {
                warnings.push(format!("Non-fatal {}", CheckError::Failed(failures)));
            } else {
                return Err(Refusal("Image failed safety checks".into()));
            }
        }
        Err(other) => {
            if policy.require_image_format_match {
                return Err(Refusal(other.to_string()));
            }
            warnings.push(other.to_string());
        }
    }
    if format == DiskFormat::Vmdk {
        check_vmdk_type(inspection, policy)?;
    }
    Ok(())
}

/// `vmdk_allowed_types` narrows the createTypes the safety check allows.
fn check_vmdk_type(inspection: &Inspection, policy: &FormatPolicy) -> Result<(), Refusal> {
    if policy.vmdk_allowed_types.is_empty() {
        return Err(Refusal(
            "Image is a VMDK, but no VMDK createType is specified".into(),
        ));
    }
    let create_type = inspection.vmdk_create_type().unwrap_or("");
    if policy
        .vmdk_allowed_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(create_type))
    {
        Ok(())
    } else {
        Err(Refusal("Invalid VMDK create-type specified".into()))
    }
}
