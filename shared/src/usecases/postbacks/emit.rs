//! Emitting an event to a partner's postbacks: one delivery per subscribed, active postback,
//! written with a condition under an id derived from the event, and queued. Emitting the same
//! event again writes and queues nothing new.

use crate::app::App;
use crate::domain::event::Event;
use crate::domain::partner::Partner;
use crate::domain::postback::{Delivery, DeliveryStatus, Postback};
use crate::domain::program::Program;
use crate::error::AppError;
use crate::repo::codec::Versioned;
use crate::repo::core::Inserted;
use crate::usecases::postbacks::deliver::deliver_job;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())[..24].to_string()
}

/// Creates one delivery per subscribed, active postback of the partner and queues it.
pub async fn emit(
    app: &App,
    program: &Program,
    partner_key: &str,
    event: Event<'_>,
) -> Result<(), AppError> {
    Subscriptions::default()
        .emit(app, program, partner_key, event)
        .await
}

/// The postbacks of the partners one job emits to: each partner's are read once, however many
/// events the job emits to them.
#[derive(Default)]
pub struct Subscriptions {
    read: HashMap<String, Vec<Postback>>,
}

impl Subscriptions {
    /// Takes the postbacks `partner` lists as theirs, read by id (none when they list none);
    /// a partner from before the list is left to the listing of its postbacks.
    pub async fn know(
        &mut self,
        app: &App,
        program: &str,
        partner: &Partner,
    ) -> Result<(), AppError> {
        let Some(ids) = &partner.postback_ids else {
            return Ok(());
        };
        let mut postbacks = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(found) = app.repo.find::<Postback>(program, id).await? {
                postbacks.push(found);
            }
        }
        postbacks.retain(|p| p.partner_key == partner.key);
        self.read.insert(partner.key.clone(), postbacks);
        Ok(())
    }

    /// [`emit`], reading the partner's postbacks only if this job has not read them yet.
    pub async fn emit(
        &mut self,
        app: &App,
        program: &Program,
        partner_key: &str,
        event: Event<'_>,
    ) -> Result<(), AppError> {
        if !self.read.contains_key(partner_key) {
            let postbacks = app
                .repo
                .postbacks_of_partner(&program.slug, partner_key)
                .await?;
            self.read.insert(partner_key.to_string(), postbacks);
        }
        let postbacks = self.read.get(partner_key).map_or(&[][..], Vec::as_slice);
        emit_to(app, program, partner_key, postbacks, event).await
    }
}

async fn emit_to(
    app: &App,
    program: &Program,
    partner_key: &str,
    postbacks: &[Postback],
    event: Event<'_>,
) -> Result<(), AppError> {
    let kind = event.kind();
    let subscribed: Vec<&Postback> = postbacks
        .iter()
        .filter(|p| p.disabled.is_none() && p.events.iter().any(|e| e == kind))
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let body = json!({ "event": kind, "data": event.data(program, partner_key) }).to_string();
    let message_id = format!("msg_{}", digest(&[&program.slug, kind, &event.identity()]));
    let now = app.now();
    for postback in subscribed {
        let delivery = Delivery {
            id: format!("dlv_{}", digest(&[&message_id, &postback.id])),
            program: program.slug.clone(),
            postback_id: postback.id.clone(),
            message_id: message_id.clone(),
            event: kind.to_string(),
            body: body.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            earlier_attempts: 0,
            next_attempt_at: Some(now),
            manual: false,
            claimed: None,
            created_at: now,
            updated_at: now,
        };
        let stored = match app.repo.insert(&program.slug, &delivery).await? {
            Inserted::Created => Versioned {
                value: delivery,
                version: 1,
            },
            Inserted::Exists(existing) => existing,
        };
        // Emitted before: queued again only if it never got its first attempt.
        if stored.value.status == DeliveryStatus::Pending && stored.value.attempts_made() == 0 {
            app.queue
                .send(&deliver_job(&program.slug, &stored, 0))
                .await?;
        }
    }
    Ok(())
}
