//! The active categories by slug, held in memory on each replica for the searches that name one
//! (`matchTechnicians`), and read again whenever the catalogue changes: at once on the replica that
//! changed it, and on every other one when its `Categories` event arrives.

use crate::db::catalogue::categories as db_categories;
use crate::error::AppResult;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use uuid::Uuid;

/// `None` while not known (before the first load, or after a reload failed): callers then read the
/// database, as they would without it.
#[derive(Default)]
pub struct ActiveCategories {
    by_slug: RwLock<Option<Arc<HashMap<String, Uuid>>>>,
    /// Held while reading, so a slow reload that read before a change cannot overwrite one that
    /// read after it.
    reloading: tokio::sync::Mutex<()>,
}

impl ActiveCategories {
    /// The active categories as the database has them now, for a replica starting up.
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<ActiveCategories> {
        let active = ActiveCategories::default();
        active.set(Some(read(db).await?));
        Ok(active)
    }

    /// The id of the active category with this slug, when the list is known and it is on it.
    pub fn id_of(&self, slug: &str) -> Option<Uuid> {
        self.by_slug
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()?
            .get(slug)
            .copied()
    }

    /// Whether the list is known.
    pub fn is_known(&self) -> bool {
        self.by_slug
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Reads the list again, one reload at a time so the last to finish read last. When that fails
    /// the list is marked unknown until a later reload succeeds.
    pub async fn reload(&self, db: &impl ConnectionTrait) {
        let _one_at_a_time = self.reloading.lock().await;
        match read(db).await {
            Ok(active) => self.set(Some(active)),
            Err(e) => {
                tracing::warn!(error = ?e.message(), "categories not reloaded; searches read them from the database");
                self.set(None);
            }
        }
    }

    fn set(&self, active: Option<HashMap<String, Uuid>>) {
        *self.by_slug.write().unwrap_or_else(PoisonError::into_inner) = active.map(Arc::new);
    }
}

async fn read(db: &impl ConnectionTrait) -> AppResult<HashMap<String, Uuid>> {
    Ok(db_categories::list(db, false)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_list_answers_none() {
        let active = ActiveCategories::default();
        assert!(!active.is_known());
        assert_eq!(active.id_of("plumbing"), None);
        let plumbing = Uuid::from_u128(5);
        active.set(Some(HashMap::from([("plumbing".to_string(), plumbing)])));
        assert!(active.is_known());
        assert_eq!(active.id_of("plumbing"), Some(plumbing));
        assert_eq!(active.id_of("astrology"), None);
        active.set(None);
        assert_eq!(active.id_of("plumbing"), None);
    }
}
