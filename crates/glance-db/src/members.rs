//! Image memberships (`image_members`). A deleted membership keeps its row; adding the
//! same member again revives it, as upstream does.

use chrono::NaiveDateTime;
use glance_domain::{Member, MemberStatus};

use crate::engine::DbRow;
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError};

/// What adding a member did.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberAdded {
    Added(Member),
    AlreadyMember,
    /// The image already has `current` members, the most allowed.
    QuotaExceeded {
        current: usize,
    },
}

const MEMBER_COLUMNS: &str = "image_id, member, can_share, status, created_at, updated_at";

fn member_from_row(row: &DbRow) -> Result<Member, DbError> {
    let created_at = row
        .time("created_at")
        .ok_or_else(|| DbError::Corrupt("member without created_at".into()))?;
    Ok(Member {
        image_id: row.text("image_id").unwrap_or_default(),
        member_id: row.text("member").unwrap_or_default(),
        status: row
            .text("status")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| DbError::Corrupt("bad member status".into()))?,
        can_share: row.boolean("can_share"),
        created_at,
        updated_at: row.time("updated_at").unwrap_or(created_at),
    })
}

impl Db {
    pub async fn list_members(&self, image_id: &str) -> Result<Vec<Member>, DbError> {
        let mut q = SqlBuf::new(&format!(
            "SELECT {MEMBER_COLUMNS} FROM image_members WHERE image_id = "
        ));
        q.bind(image_id)
            .push(" AND deleted = ")
            .bind(false)
            .push(" ORDER BY id");
        self.fetch(&q).await?.iter().map(member_from_row).collect()
    }

    pub async fn get_member(
        &self,
        image_id: &str,
        member: &str,
    ) -> Result<Option<Member>, DbError> {
        let mut q = SqlBuf::new(&format!(
            "SELECT {MEMBER_COLUMNS} FROM image_members WHERE image_id = "
        ));
        q.bind(image_id)
            .push(" AND member = ")
            .bind(member)
            .push(" AND deleted = ")
            .bind(false);
        self.fetch(&q)
            .await?
            .first()
            .map(member_from_row)
            .transpose()
    }

    /// Adds `member` with status pending unless the image already has `quota` members
    /// or it already is one (the quota is checked first, as upstream).
    pub async fn add_member(
        &self,
        image_id: &str,
        member: &str,
        quota: Option<usize>,
    ) -> Result<MemberAdded, DbError> {
        self.retry_deadlocks(|| self.add_member_once(image_id, member, quota))
            .await
    }

    async fn add_member_once(
        &self,
        image_id: &str,
        member: &str,
        quota: Option<usize>,
    ) -> Result<MemberAdded, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        crate::tags::touch_image(&mut tx, image_id).await?;
        let mut q = SqlBuf::new("SELECT member FROM image_members WHERE image_id = ");
        q.bind(image_id).push(" AND deleted = ").bind(false);
        let current: Vec<String> = tx
            .fetch(&q)
            .await?
            .iter()
            .filter_map(|r| r.text("member"))
            .collect();
        if quota.is_some_and(|max| current.len() + 1 > max) {
            return Ok(MemberAdded::QuotaExceeded {
                current: current.len(),
            });
        }
        if current.iter().any(|m| m == member) {
            return Ok(MemberAdded::AlreadyMember);
        }
        // Revive the most recent deleted row of this membership, if any: status back to
        // pending, updated_at refreshed, created_at kept (as upstream).
        let mut q = SqlBuf::new("SELECT id, created_at FROM image_members WHERE image_id = ");
        q.bind(image_id)
            .push(" AND member = ")
            .bind(member)
            .push(" AND deleted = ")
            .bind(true);
        q.push(" ORDER BY id DESC");
        let old = tx
            .fetch(&q)
            .await?
            .first()
            .and_then(|r| Some((r.int("id")?, r.time("created_at").unwrap_or(at))));
        let created_at = match old {
            Some((row_id, created_at)) => {
                let mut q = SqlBuf::new("UPDATE image_members SET deleted = ");
                q.bind(false)
                    .push(", deleted_at = NULL, status = ")
                    .bind(MemberStatus::Pending.as_str());
                q.push(", updated_at = ").bind(at);
                q.push(" WHERE id = ").bind(row_id);
                tx.execute(&q).await?;
                created_at
            }
            None => {
                let mut q = SqlBuf::new(
                    "INSERT INTO image_members (image_id, member, can_share, created_at, updated_at, deleted, status) VALUES ",
                );
                q.bind_list([
                    SqlValue::from(image_id),
                    member.into(),
                    false.into(),
                    at.into(),
                    at.into(),
                    false.into(),
                    MemberStatus::Pending.as_str().into(),
                ]);
                tx.execute(&q).await?;
                at
            }
        };
        tx.commit().await?;
        Ok(MemberAdded::Added(Member {
            image_id: image_id.to_string(),
            member_id: member.to_string(),
            status: MemberStatus::Pending,
            can_share: false,
            created_at,
            updated_at: at,
        }))
    }

    /// Sets a membership's status; None when there is no such membership.
    pub async fn update_member_status(
        &self,
        image_id: &str,
        member: &str,
        status: MemberStatus,
    ) -> Result<Option<Member>, DbError> {
        self.retry_deadlocks(|| self.update_member_status_once(image_id, member, status))
            .await
    }

    async fn update_member_status_once(
        &self,
        image_id: &str,
        member: &str,
        status: MemberStatus,
    ) -> Result<Option<Member>, DbError> {
        let mut q = SqlBuf::new("UPDATE image_members SET status = ");
        q.bind(status.as_str()).push(", updated_at = ").bind(now());
        q.push(" WHERE image_id = ")
            .bind(image_id)
            .push(" AND member = ")
            .bind(member);
        q.push(" AND deleted = ").bind(false);
        if self.execute(&q).await? == 0 {
            return Ok(None);
        }
        self.get_member(image_id, member).await
    }

    /// Soft-deletes a membership; false when there was none.
    pub async fn delete_member(&self, image_id: &str, member: &str) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.delete_member_once(image_id, member))
            .await
    }

    async fn delete_member_once(&self, image_id: &str, member: &str) -> Result<bool, DbError> {
        let at: NaiveDateTime = now();
        let mut q = SqlBuf::new("UPDATE image_members SET deleted = ");
        q.bind(true).push(", deleted_at = ").bind(at);
        q.push(" WHERE image_id = ")
            .bind(image_id)
            .push(" AND member = ")
            .bind(member);
        q.push(" AND deleted = ").bind(false);
        Ok(self.execute(&q).await? > 0)
    }

    /// Sets v1's `can_share` of a membership; false when there is none.
    pub async fn set_member_can_share(
        &self,
        image_id: &str,
        member: &str,
        can_share: bool,
    ) -> Result<bool, DbError> {
        let mut q = SqlBuf::new("UPDATE image_members SET can_share = ");
        q.bind(can_share).push(", updated_at = ").bind(now());
        q.push(" WHERE image_id = ")
            .bind(image_id)
            .push(" AND member = ")
            .bind(member);
        q.push(" AND deleted = ").bind(false);
        Ok(self.execute(&q).await? > 0)
    }

    /// The live memberships of `member` on images that are not deleted, oldest first
    /// (v1's `/shared-images/{member}`).
    pub async fn memberships_of(&self, member: &str) -> Result<Vec<Member>, DbError> {
        let columns = MEMBER_COLUMNS
            .split(", ")
            .map(|c| format!("image_members.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = SqlBuf::new(&format!(
            "SELECT {columns} FROM image_members JOIN images ON images.id = image_members.image_id \
             WHERE image_members.member = "
        ));
        q.bind(member)
            .push(" AND image_members.deleted = ")
            .bind(false)
            .push(" AND images.deleted = ")
            .bind(false)
            .push(" ORDER BY image_members.id");
        self.fetch(&q).await?.iter().map(member_from_row).collect()
    }
}
