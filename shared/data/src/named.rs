//! What every named object of a workspace (a source, a schema, a mapping) shares:
//! its item in the workspace's partition, a guard item per name keeping names unique
//! in the workspace (compared as `Name::key`), and its 404. Each kind says where it
//! is kept ([`Named`]); [`Scope`] reads, creates, renames and deletes any of them the
//! same way.

use crate::scope::Scope;
use relinx_ddb::codec::{Item, key, s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{ErrorCode, EventSubject, Name};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of named object of a workspace. Its 404 and its events call it
/// [`EventSubject::KIND`].
pub trait Named: EventSubject + Serialize + DeserializeOwned + Send {
    /// Sort-key prefix of its items (`SRC#`).
    const PREFIX: &'static str;
    /// Sort-key prefix of its name guards (`SRCNAME#`).
    const NAME_PREFIX: &'static str;

    fn name(&self) -> &str;
    fn set_name(&mut self, name: &Name);
}

fn taken<T: Named>() -> OnFail {
    OnFail::Conflict(
        ErrorCode::AlreadyExists,
        format!(
            "a {} with this name already exists in the workspace",
            T::KIND
        ),
    )
}

impl Scope {
    /// The sort key of the `T` with id `id`.
    pub fn sk<T: Named>(&self, id: &str) -> String {
        format!("{}{id}", T::PREFIX)
    }

    fn name_sk<T: Named>(&self, name: &Name) -> String {
        format!("{}{}", T::NAME_PREFIX, name.key())
    }

    fn name_guard<T: Named>(&self, name: &Name, id: &str) -> Item {
        let mut item = key(self.partition(), self.name_sk::<T>(name));
        item.insert("id".into(), s(id));
        item
    }

    /// The `T` with id `id` in this workspace, read consistently (404 if none).
    pub async fn get<T: Named>(&self, store: &Store, id: &str) -> Result<T, StoreError> {
        store
            .get(self.partition(), self.sk::<T>(id))
            .await?
            .ok_or(StoreError::NotFound(T::KIND))
    }

    /// Every `T` of the workspace, by id (creation order).
    pub async fn all<T: Named>(&self, store: &Store) -> Result<Vec<T>, StoreError> {
        store
            .partition_slice(&self.partition(), T::PREFIX, 0, usize::MAX)
            .await
    }

    /// Stages a new `T` and its name (a taken name: 409 `ALREADY_EXISTS`).
    pub fn stage_new<T: Named>(
        &self,
        tx: &mut Tx,
        store: &Store,
        object: &T,
    ) -> Result<(), StoreError> {
        let main = &store.tables().main;
        let id = object.subject_id();
        tx.put(
            main,
            to_item(object, self.partition(), self.sk::<T>(&id))?,
            Some(Cond::not_exists()),
            OnFail::Internal,
        );
        let name = Name::parse("name", object.name())?;
        tx.put(
            main,
            self.name_guard::<T>(&name, &id),
            Some(Cond::not_exists()),
            taken::<T>(),
        );
        Ok(())
    }

    /// Renames `object` to `name`, moving its guard in the same transaction.
    pub fn stage_rename<T: Named>(&self, tx: &mut Tx, store: &Store, object: &mut T, name: &Name) {
        let main = &store.tables().main;
        let old = Name::parse("name", object.name()).ok();
        if old.as_ref().is_some_and(|old| old.key() == name.key()) {
            object.set_name(name);
            return;
        }
        if let Some(old) = old {
            tx.delete(
                main,
                self.partition(),
                self.name_sk::<T>(&old),
                None,
                OnFail::Internal,
            );
        }
        tx.put(
            main,
            self.name_guard::<T>(name, &object.subject_id()),
            Some(Cond::not_exists()),
            taken::<T>(),
        );
        object.set_name(name);
    }

    /// Stages the release of `object`'s name (it is being deleted).
    pub fn stage_release<T: Named>(&self, tx: &mut Tx, store: &Store, object: &T) {
        if let Ok(name) = Name::parse("name", object.name()) {
            tx.delete(
                &store.tables().main,
                self.partition(),
                self.name_sk::<T>(&name),
                None,
                OnFail::Internal,
            );
        }
    }

    /// Changes the `T` with id `id` as `change` says, under its version
    /// (`versioned::modify`); none: its 404.
    pub async fn modify<T, R, F, Fut>(
        &self,
        store: &Store,
        id: &str,
        change: F,
    ) -> Result<R, StoreError>
    where
        T: Named,
        F: FnMut(T, Tx) -> Fut,
        Fut: Future<Output = Result<Changed<T, R>, StoreError>>,
    {
        versioned::modify(
            store,
            self.partition(),
            self.sk::<T>(id),
            || StoreError::NotFound(T::KIND),
            change,
        )
        .await
    }
}
