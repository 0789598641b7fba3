//! Why this exists: the schedule — services, bookings (events) and orders — with their rules
//! (overlap, validation) and the outbox rows each change writes in the same transaction. A pending
//! auto-lock follows its booking here too.

use super::*;

fn format_local(t: Timestamp) -> String {
    crate::locale::LocalTimes::os().date_time(t)
}
impl Station {
    // ---- services --------------------------------------------------------------------------

    pub fn list_services(&self) -> CoreResult<Vec<Service>> {
        self.actor(Permission::ViewOwnSchedule)?;
        services::list(self.store().conn())
    }

    pub(crate) fn validate_service(
        input: &ServiceInput,
    ) -> CoreResult<(String, String, Vec<String>)> {
        let name = trimmed(&input.name, "Service name", 100, true)?;
        let description = trimmed(&input.description, "Description", 2000, false)?;
        let (tags, _) = normalize_tags(&input.tags)?;
        Ok((name, description, tags))
    }

    pub fn create_service(&self, input: ServiceInput) -> CoreResult<Service> {
        self.create_service_with_id(&store::new_id(), input)
    }

    /// Creates a service under a given id (configuration import keeps ids across stations).
    pub fn create_service_with_id(&self, id: &str, input: ServiceInput) -> CoreResult<Service> {
        self.actor(Permission::ManageSchedule)?;
        let (name, description, tags) = Self::validate_service(&input)?;
        let store = self.store();
        let id = id.to_string();
        services::insert(store.conn(), &id, &name, &description, &tags, self.now())?;
        services::get(store.conn(), &id)?.ok_or_else(|| CoreError::not_found("The service"))
    }

    pub fn update_service(&self, id: &str, input: ServiceInput) -> CoreResult<Service> {
        self.actor(Permission::ManageSchedule)?;
        let (name, description, tags) = Self::validate_service(&input)?;
        let store = self.store();
        if !services::update(store.conn(), id, &name, &description, &tags, self.now())? {
            return Err(CoreError::not_found("The service"));
        }
        services::get(store.conn(), id)?.ok_or_else(|| CoreError::not_found("The service"))
    }

    /// Deletes a service without bookings. Its webhooks go with it (the database cascades), and so
    /// do their keyring entries: those are deleted first, with no database lock held, and put back
    /// when deleting the row then fails.
    pub fn delete_service(&self, id: &str) -> CoreResult<()> {
        self.actor(Permission::ManageSchedule)?;
        let (hooks, feeds) = {
            let store = self.store();
            Self::check_service_deletable(store.conn(), id)?;
            let hooks = crate::store::webhooks::list(store.conn())?
                .into_iter()
                .filter(|w| w.service_id.as_deref() == Some(id))
                .collect::<Vec<_>>();
            let feeds = crate::store::feeds::list(store.conn())?
                .into_iter()
                .filter(|f| f.service_id == id)
                .collect::<Vec<_>>();
            (hooks, feeds)
        };
        let ops = hooks
            .iter()
            .flat_map(crate::station::webhooks::secret_keys)
            .chain(
                feeds
                    .iter()
                    .filter(|f| f.auth_secret_set)
                    .map(|f| crate::feed::auth_key(&f.id)),
            )
            .map(|k| (k, None))
            .collect();
        let undo = self.apply_secret_ops(ops)?;
        let deleted = {
            let store = self.store();
            Self::check_service_deletable(store.conn(), id).and_then(|()| {
                // Its feeds go with it (they hold no bookings: the service has none).
                for f in &feeds {
                    crate::store::feeds::delete(store.conn(), &f.id)?;
                }
                match services::delete(store.conn(), id) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(CoreError::not_found("The service")),
                    Err(e) if e.code == ErrorCode::Database => Err(CoreError::conflict(
                        "This service is named by order line items; remove them first.",
                    )),
                    Err(e) => Err(e),
                }
            })
        };
        if deleted.is_err() {
            self.undo_secret_ops(undo);
        } else if !hooks.is_empty() {
            tracing::info!(service = %id, webhooks = hooks.len(), "service deleted with its webhooks and their secrets");
        }
        deleted
    }

    fn check_service_deletable(conn: &rusqlite::Connection, id: &str) -> CoreResult<()> {
        services::get(conn, id)?.ok_or_else(|| CoreError::not_found("The service"))?;
        let n = events::count_for_service(conn, id)?;
        if n > 0 {
            return Err(CoreError::conflict(format!(
                "This service has {n} booking(s); delete or move them first."
            )));
        }
        Ok(())
    }

    // ---- events ----------------------------------------------------------------------------

    /// Staff see every booking; instrument users see only their own.
    pub fn list_events(&self) -> CoreResult<Vec<Event>> {
        let actor = self.actor(Permission::ViewOwnSchedule)?;
        let only = (!actor.role.is_staff()).then_some(actor.id.as_str());
        let mut list = events::list(self.store().conn(), only)?;
        if !actor.role.is_staff() {
            // The usage record is for staff and billing.
            list.iter_mut().for_each(|e| e.usage = None);
        }
        Ok(list)
    }

    fn validate_event(
        &self,
        conn: &rusqlite::Connection,
        id: Option<&str>,
        input: &EventInput,
    ) -> CoreResult<String> {
        let title = trimmed(&input.title, "Title", 200, false)?;
        if input.ends_at <= input.starts_at {
            return Err(CoreError::validation("The end must be after the start."));
        }
        services::get(conn, &input.service_id)?
            .ok_or_else(|| CoreError::validation("Choose an existing service."))?;
        let user = accounts::get(conn, &input.user_id)?
            .ok_or_else(|| CoreError::validation("Choose an existing account for the booking."))?;
        if !user.account.active {
            return Err(CoreError::validation(format!(
                "{} is deactivated and cannot be booked.",
                user.account.display_name
            )));
        }
        match (&input.order_id, &input.line_id) {
            (None, Some(_)) => return Err(CoreError::validation("A line item needs its order.")),
            (Some(order_id), line) => {
                orders::get(conn, order_id)?
                    .ok_or_else(|| CoreError::validation("Choose an existing order."))?;
                if let Some(line_id) = line {
                    let (line_order, line_service) = order_lines::order_of(conn, line_id)?
                        .ok_or_else(|| CoreError::validation("Choose an existing line item."))?;
                    if &line_order != order_id {
                        return Err(CoreError::validation(
                            "The line item belongs to another order.",
                        ));
                    }
                    if line_service != input.service_id {
                        return Err(CoreError::validation(
                            "The line item is for another service.",
                        ));
                    }
                }
            }
            (None, None) => {}
        }
        let clashes =
            events::overlapping(conn, &input.service_id, input.starts_at, input.ends_at, id)?;
        if let Some(other) = clashes.first() {
            return Err(CoreError::conflict(format!(
                "This booking overlaps another booking on {} ({} to {}).",
                other.service_name,
                format_local(other.starts_at),
                format_local(other.ends_at)
            ))
            .with_detail(crate::error::ErrorDetail::BookingOverlaps {
                service_name: other.service_name.clone(),
                starts_at: other.starts_at,
                ends_at: other.ends_at,
            }));
        }
        Ok(title)
    }

    pub fn create_event(&self, input: EventInput) -> CoreResult<Event> {
        self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        // One transaction: the overlap check and the insert cannot be split by another writer.
        let tx = store.conn_mut().transaction()?;
        let title = self.validate_event(&tx, None, &input)?;
        let id = store::new_id();
        events::insert(&tx, &event_row(&id, &title, &input), self.now())?;
        let event = events::get(&tx, &id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        let queued = enqueue_event(&tx, ActionSubtype::Create, &event, self.now())?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(event)
    }

    pub fn update_event(&self, id: &str, input: EventInput) -> CoreResult<Event> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let before = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        refuse_if_synced(&before)?;
        let title = self.validate_event(&tx, Some(id), &input)?;
        events::update(&tx, &event_row(id, &title, &input), self.now())?;
        let event = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        // A pending auto-lock follows its booking (same transaction: both or neither).
        crate::interlock::auto_lock::follow_booking_change(
            &tx,
            &actor,
            &before,
            Some(&event),
            self.now(),
        )?;
        let queued = enqueue_event(&tx, ActionSubtype::Update, &event, self.now())?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(event)
    }

    pub fn delete_event(&self, id: &str) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let event = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        refuse_if_synced(&event)?;
        crate::interlock::auto_lock::follow_booking_change(&tx, &actor, &event, None, self.now())?;
        let queued = enqueue_event(&tx, ActionSubtype::Delete, &event, self.now())?;
        events::delete(&tx, id)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(())
    }

    pub(crate) fn signal_outbox(&self, queued: usize) {
        if queued > 0 {
            self.outbox_signal.notify_one();
        }
    }

    // ---- orders ----------------------------------------------------------------------------

    pub fn list_orders(&self) -> CoreResult<Vec<Order>> {
        self.actor(Permission::ViewAllSchedule)?;
        let store = self.store();
        orders::list(store.conn())?
            .into_iter()
            .map(|row| full_order(store.conn(), row))
            .collect()
    }

    pub fn create_order(&self, input: OrderInput) -> CoreResult<Order> {
        self.actor(Permission::ManageSchedule)?;
        self.save_order(None, input)
    }

    pub fn update_order(&self, id: &str, input: OrderInput) -> CoreResult<Order> {
        self.actor(Permission::ManageSchedule)?;
        self.save_order(Some(id), input)
    }

    fn save_order(&self, id: Option<&str>, input: OrderInput) -> CoreResult<Order> {
        let row = orders::OrderRow {
            id: id.map(str::to_string).unwrap_or_else(store::new_id),
            reference: trimmed(&input.reference, "Order reference", 64, true)?,
            customer: trimmed(&input.customer, "Customer", 200, true)?,
            status: input.status,
        };
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let existing_lines = match id {
            Some(id) => {
                if !orders::update(&tx, &row, now)? {
                    return Err(CoreError::not_found("The order"));
                }
                order_lines::list_for_order(&tx, id)?
            }
            None => {
                orders::insert(&tx, &row, now)?;
                Vec::new()
            }
        };
        let mut kept = Vec::new();
        for (position, line) in input.lines.iter().enumerate() {
            let description = trimmed(
                &line.description,
                &format!("Line {} description", position + 1),
                500,
                true,
            )?;
            services::get(&tx, &line.service_id)?.ok_or_else(|| {
                CoreError::validation(format!(
                    "Line {}: choose an existing service.",
                    position + 1
                ))
            })?;
            let line_id = match &line.id {
                Some(lid) if existing_lines.iter().any(|l| &l.id == lid) => lid.clone(),
                Some(_) => {
                    return Err(CoreError::validation(format!(
                        "Line {} does not belong to this order.",
                        position + 1
                    )))
                }
                None => store::new_id(),
            };
            order_lines::upsert(
                &tx,
                &line_id,
                &row.id,
                &line.service_id,
                &description,
                position,
            )?;
            kept.push(line_id);
        }
        for old in existing_lines.iter().filter(|l| !kept.contains(&l.id)) {
            order_lines::delete(&tx, &old.id)?;
        }
        let order = full_order(&tx, row)?;
        let subtype = if id.is_some() {
            ActionSubtype::Update
        } else {
            ActionSubtype::Create
        };
        let queued = enqueue_order(&tx, subtype, &order, now)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(order)
    }

    pub fn delete_order(&self, id: &str) -> CoreResult<()> {
        self.actor(Permission::ManageSchedule)?;
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let row = orders::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The order"))?;
        let order = full_order(&tx, row)?;
        let queued = enqueue_order(&tx, ActionSubtype::Delete, &order, now)?;
        orders::delete(&tx, id)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(())
    }
}

/// A booking a calendar feed brought is changed in that calendar, not here: the next sync would
/// undo the change.
fn refuse_if_synced(e: &Event) -> CoreResult<()> {
    match &e.source {
        Some(src) if src.feed_id.is_some() => Err(CoreError::conflict(format!(
            "This booking comes from the calendar feed '{}'; change or cancel it in that calendar.",
            src.name
        ))),
        _ => Ok(()),
    }
}

/// Queues the event webhooks for one event change (inside the caller's transaction).
pub(crate) fn enqueue_event(
    conn: &rusqlite::Connection,
    subtype: ActionSubtype,
    e: &Event,
    now: Timestamp,
) -> CoreResult<usize> {
    let keys = SystemKeys {
        order_id: e.order_id.clone(),
        subject_id: Some(e.id.clone()),
    };
    outbox::enqueue(
        conn,
        Action::new(ActionType::Event, subtype),
        Some(&e.service_id),
        &keys,
        now,
    )
}

/// Queues the order webhooks for one order change: once per line item, or once without a line
/// (to webhooks for all services) when the order has none.
fn enqueue_order(
    conn: &rusqlite::Connection,
    subtype: ActionSubtype,
    o: &Order,
    now: Timestamp,
) -> CoreResult<usize> {
    let action = Action::new(ActionType::Order, subtype);
    if o.lines.is_empty() {
        let keys = SystemKeys {
            order_id: Some(o.id.clone()),
            subject_id: None,
        };
        return outbox::enqueue(conn, action, None, &keys, now);
    }
    let mut queued = 0;
    for line in &o.lines {
        let keys = SystemKeys {
            order_id: Some(o.id.clone()),
            subject_id: Some(line.id.clone()),
        };
        queued += outbox::enqueue(conn, action, Some(&line.service_id), &keys, now)?;
    }
    Ok(queued)
}
fn event_row<'a>(id: &'a str, title: &'a str, input: &'a EventInput) -> events::EventRow<'a> {
    events::EventRow {
        id,
        service_id: &input.service_id,
        user_id: Some(&input.user_id),
        title,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        order_id: input.order_id.as_deref(),
        line_id: input.line_id.as_deref(),
    }
}

fn full_order(conn: &rusqlite::Connection, row: orders::OrderRow) -> CoreResult<Order> {
    let lines = order_lines::list_for_order(conn, &row.id)?;
    Ok(Order {
        id: row.id,
        reference: row.reference,
        customer: row.customer,
        status: row.status,
        lines,
    })
}
