//! Format inspection of uploads: the `glance-format` inspector watches the bytes as
//! they stream into the store, and its verdict decides whether they are committed.

use std::sync::{Arc, Mutex};

use glance_config::ImageFormatSettings;
use glance_domain::Image;
use glance_format::{judge, Accepted, FormatPolicy, Inspector};
use glance_store::ChunkObserver;

/// The verdict of an upload's inspection, read once the upload finished.
#[derive(Clone, Default)]
pub(crate) struct InspectionOutcome(Arc<Mutex<Option<Accepted>>>);

impl InspectionOutcome {
    /// The virtual size to record (None: leave the field unset).
    pub(crate) fn virtual_size(&self) -> Option<u64> {
        self.0.lock().ok()?.as_ref()?.virtual_size
    }
}

/// Watches one upload. Only `bare` containers are inspected, as upstream: other
/// container formats wrap the disk in something the inspector cannot see through.
pub(crate) fn observer_for(
    image: &Image,
    settings: &ImageFormatSettings,
) -> Option<(Box<dyn ChunkObserver>, InspectionOutcome)> {
    if image.container_format.as_deref() != Some("bare") {
        return None;
    }
    let outcome = InspectionOutcome::default();
    let observer = FormatObserver {
        image_id: image.id.clone(),
        disk_format: image.disk_format.clone().unwrap_or_default(),
        policy: FormatPolicy {
            require_image_format_match: settings.require_image_format_match,
            gpt_safety_checks_nonfatal: settings.gpt_safety_checks_nonfatal.clone(),
            vmdk_allowed_types: settings.vmdk_allowed_types.clone(),
        },
        inspector: Some(Inspector::new()),
        outcome: outcome.clone(),
    };
    Some((Box::new(observer), outcome))
}

struct FormatObserver {
    image_id: String,
    disk_format: String,
    policy: FormatPolicy,
    inspector: Option<Inspector>,
    outcome: InspectionOutcome,
}

impl ChunkObserver for FormatObserver {
    fn observe(&mut self, chunk: &[u8]) {
        if let Some(inspector) = &mut self.inspector {
            inspector.feed(chunk);
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        let inspection = self
            .inspector
            .take()
            .ok_or_else(|| "the upload was inspected twice".to_string())?
            .finish();
        let accepted = judge(&inspection, &self.disk_format, &self.policy).map_err(|refusal| {
            tracing::warn!(image = %self.image_id, disk_format = %self.disk_format,
                "upload refused by format inspection: {refusal}");
            refusal.0
        })?;
        for warning in &accepted.warnings {
            tracing::warn!(image = %self.image_id, "format inspection: {warning}");
        }
        if let Ok(mut slot) = self.outcome.0.lock() {
            *slot = Some(accepted);
        }
        Ok(())
    }
}
