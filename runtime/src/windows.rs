//! The merge windows of batch functions (`merge = "2ms"`): per cache instance, the window open
//! for each group of calls, holding the items handed to it until its driver takes them. The
//! protocol (who opens, joins, drives, closes) is the engine's (`engine/batch/merge.rs`).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

/// A call site (its `Site`'s address) and the digest of its other key arguments: calls that
/// differ in those compute differently, and never share a window.
pub(crate) type Group = (usize, u128);

/// The windows open in one cache instance.
#[derive(Default)]
pub(crate) struct Windows {
    open: Mutex<HashMap<Group, Arc<Window>>>,
}

/// One window: the items of the calls merged so far, type-erased (windows of every function
/// share the map; the group keeps each to one function and instantiation).
#[derive(Default)]
pub(crate) struct Window {
    items: Mutex<Vec<Box<dyn Any + Send>>>,
    /// Told to the driver when the window fills up.
    pub(crate) full: Notify,
}

impl Windows {
    /// The open windows, locked (then a window's items: always in this order).
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<Group, Arc<Window>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes `window` (no call joins it any more) and takes its items.
    pub(crate) fn close(&self, group: Group, window: &Arc<Window>) -> Vec<Box<dyn Any + Send>> {
        let mut open = self.lock();
        if open
            .get(&group)
            .is_some_and(|current| Arc::ptr_eq(current, window))
        {
            open.remove(&group);
        }
        drop(open);
        std::mem::take(&mut *window.items())
    }
}

impl Window {
    /// A window holding `items`.
    pub(crate) fn new(items: Vec<Box<dyn Any + Send>>) -> Arc<Window> {
        Arc::new(Window {
            items: Mutex::new(items),
            full: Notify::new(),
        })
    }

    /// Its items, locked.
    pub(crate) fn items(&self) -> MutexGuard<'_, Vec<Box<dyn Any + Send>>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
