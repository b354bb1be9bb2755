//! A read budget: how many items one request that walks a set (an analytics query,
//! an audience's rebuild) may read before it stops. Every page it asks for is sized
//! to what is left plus one, so a walk that needs exactly the budget finishes and
//! one that needs more learns so by reading one item past it, never more.

use crate::StoreError;
use crate::codec::Item;
use crate::ops::Query;
use relinx_model::ValidationError;

/// The largest page DynamoDB is asked for (it stops at 1 MB of items anyway).
const MAX_PAGE: u64 = 1000;

#[derive(Debug, Clone)]
pub struct ReadBudget {
    limit: u64,
    read: u64,
}

impl ReadBudget {
    /// At most `limit` items (at least one).
    pub fn new(limit: u64) -> Self {
        Self {
            limit: limit.max(1),
            read: 0,
        }
    }

    /// Items read so far (filtered out or not: each was read).
    pub fn read(&self) -> u64 {
        self.read
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How many items the next page may ask for.
    pub fn page_limit(&self) -> i32 {
        let left = self.limit.saturating_sub(self.read).saturating_add(1);
        i32::try_from(left.min(MAX_PAGE)).unwrap_or(1000)
    }

    /// Counts `items` read; past the budget, the 422 that asks for less.
    pub fn spend(&mut self, items: usize) -> Result<(), StoreError> {
        self.read = self
            .read
            .saturating_add(u64::try_from(items).unwrap_or(u64::MAX));
        if self.read > self.limit {
            return Err(StoreError::Unprocessable(ValidationError::new(
                "range",
                format!(
                    "this query reads more than the read budget of {} items (RELINX_QUERY_READ_BUDGET); narrow the range, or query a smaller set (docs/analytics.md)",
                    self.limit
                ),
            )));
        }
        Ok(())
    }

    /// Walks every page of `query`, each sized by the budget, handing each item to
    /// `visit` as it comes (nothing is held); stops with the budget's 422 once the
    /// set goes past it.
    pub async fn walk(
        &mut self,
        query: Query<'_>,
        visit: &mut (dyn FnMut(Item) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let found = query
                .clone()
                .limit(self.page_limit())
                .after(start)
                .page_items()
                .await?;
            self.spend(found.read)?;
            for item in found.items {
                visit(item)?;
            }
            match found.next {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_budget_passes_and_one_more_does_not() {
        let mut budget = ReadBudget::new(1000);
        assert_eq!(budget.page_limit(), 1000);
        budget.spend(999).unwrap();
        assert_eq!(budget.page_limit(), 2);
        budget.spend(1).unwrap();
        assert_eq!(budget.read(), 1000);
        let err = budget.spend(1).unwrap_err();
        assert!(
            err.to_string().contains("read budget of 1000 items"),
            "{err}"
        );
    }
}
