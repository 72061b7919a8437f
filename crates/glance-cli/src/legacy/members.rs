//! `image-members`, `member-images`, `member-add`, `member-delete`, `members-replace`.

use glance_client::Membership;

use super::{Session, FAILURE, SUCCESS};

/// One line per entry, ` *` after those that can share, and the footnote if any can.
fn print_sharing<'a>(session: &Session, entries: impl Iterator<Item = (&'a str, bool)>) {
    let mut any = false;
    for (id, can_share) in entries {
        session.line(&format!("{id}{}", if can_share { " *" } else { "" }));
        any |= can_share;
    }
    if any {
        session.line("\n(*: Can share image)");
    }
}

pub async fn image_members(session: &Session, mut args: Vec<String>) -> i32 {
    let Some(id) = args.pop() else {
        session.line("Please specify the ID of the image as the first argument");
        return FAILURE;
    };
    match session.client.get_image_members(&id).await {
        Ok(members) => {
            print_sharing(
                session,
                members.iter().map(|m| (m.member_id.as_str(), m.can_share)),
            );
            SUCCESS
        }
        Err(e) => session.failed("show image members", &e),
    }
}

pub async fn member_images(session: &Session, mut args: Vec<String>) -> i32 {
    let Some(member) = args.pop() else {
        session.line("Please specify the ID of the member as the first argument");
        return FAILURE;
    };
    match session.client.get_member_images(&member).await {
        Ok(images) => {
            print_sharing(
                session,
                images.iter().map(|i| (i.image_id.as_str(), i.can_share)),
            );
            SUCCESS
        }
        Err(e) if e.is_not_found() => {
            session.line(&format!("No images shared with member {member}"));
            SUCCESS
        }
        Err(e) => session.failed("show member images", &e),
    }
}

/// The last two arguments: image id and member.
fn image_and_member(session: &Session, mut args: Vec<String>) -> Option<(String, String)> {
    let member = args.pop();
    let image = args.pop();
    match (image, member) {
        (Some(i), Some(m)) => Some((i, m)),
        _ => {
            session.line("Please specify the image ID and the member name");
            None
        }
    }
}

pub async fn member_add(session: &Session, args: Vec<String>) -> i32 {
    let Some((id, member)) = image_and_member(session, args) else {
        return FAILURE;
    };
    let can_share = session.options.can_share;
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line(&format!("Add \"{member}\" to membership of image {id}"));
        if can_share {
            session.line("New member would have been able to further share image.");
        }
        return SUCCESS;
    }
    match session
        .client
        .add_member(&id, &member, Some(can_share))
        .await
    {
        Ok(()) => SUCCESS,
        Err(e) => session.failed("add image member", &e),
    }
}

pub async fn member_delete(session: &Session, args: Vec<String>) -> i32 {
    let Some((id, member)) = image_and_member(session, args) else {
        return FAILURE;
    };
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line(&format!(
            "Remove \"{member}\" from the member list of image \"{id}\""
        ));
        return SUCCESS;
    }
    match session.client.delete_member(&id, &member).await {
        Ok(()) => SUCCESS,
        Err(e) => session.failed("delete image member", &e),
    }
}

pub async fn members_replace(session: &Session, args: Vec<String>) -> i32 {
    let Some((id, member)) = image_and_member(session, args) else {
        return FAILURE;
    };
    let can_share = session.options.can_share;
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line(&format!("Replace members of image {id} with \"{member}\""));
        if can_share {
            session.line("New member would have been able to further share image.");
        }
        return SUCCESS;
    }
    let members = [Membership {
        member_id: member,
        can_share,
    }];
    match session.client.replace_members(&id, &members).await {
        Ok(()) => SUCCESS,
        Err(e) => session.failed("update image members", &e),
    }
}
