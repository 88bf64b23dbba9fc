//! `result_tags`: tags taken from the computed value, e.g. a list tagged with every id it holds.

use crate::{Runs, counts};
use cached_query::cached_query;

static TEAM_RUNS: Runs = Runs::new();

/// A list query: the members of a team, tagged with each member it returned. The closure's
/// parameter type is inferred.
#[cached_query(result_tags = |members| members.iter().map(|id| format!("rt-member:{id}")).collect::<Vec<_>>())]
async fn team_members(team: u64) -> Vec<u64> {
    TEAM_RUNS.bump();
    (team * 10..team * 10 + 3).collect()
}

#[tokio::test]
async fn invalidating_any_returned_id_invalidates_the_list() {
    assert_eq!(team_members(1).await, vec![10, 11, 12]);
    team_members(1).await;
    assert_eq!(TEAM_RUNS.get(), 1);

    // A tag the result did not name: still a hit.
    cached_query::invalidate_tag("rt-member:13").await.unwrap();
    team_members(1).await;
    assert_eq!(TEAM_RUNS.get(), 1);

    // One of the returned ids: the list is recomputed.
    cached_query::invalidate_tag("rt-member:11").await.unwrap();
    team_members(1).await;
    assert_eq!(TEAM_RUNS.get(), 2);
    team_members(1).await;
    assert_eq!(TEAM_RUNS.get(), 2);
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    id: u64,
    customer: u64,
}

fn order_tags(order: &Order) -> [String; 1] {
    [format!("rt-customer:{}", order.customer)]
}

static ORDER_RUNS: Runs = Runs::new();

/// The customer is only known from the result; a path instead of a closure; with a declared tag.
#[cached_query(tags = ["rt-order:{id}"], result_tags = order_tags)]
async fn order(id: u64) -> Result<Order, String> {
    ORDER_RUNS.bump();
    if id == 0 {
        return Err("no order 0".into());
    }
    Ok(Order {
        id,
        customer: id % 3,
    })
}

#[tokio::test]
async fn tags_from_the_ok_value_join_the_declared_tags() {
    order(4).await.unwrap();
    order(4).await.unwrap();
    assert_eq!(ORDER_RUNS.get(), 1);
    cached_query::invalidate_tag("rt-customer:1").await.unwrap();
    order(4).await.unwrap();
    assert_eq!(ORDER_RUNS.get(), 2, "tag from the value");
    cached_query::invalidate_tag("rt-order:4").await.unwrap();
    order(4).await.unwrap();
    assert_eq!(ORDER_RUNS.get(), 3, "declared tag");

    // An `Err` has no value to take tags from, and is not cached.
    assert!(order(0).await.is_err());
    assert!(order(0).await.is_err());
    assert_eq!(ORDER_RUNS.get(), 5);
}

static RACED_RUNS: Runs = Runs::new();

/// Invalidates one of the tags its own result will carry while it runs, as a concurrent write
/// would; also invalidates an unrelated tag before reading anything.
#[cached_query(result_tags = |items: &Vec<u64>| items.iter().map(|id| format!("rt-item:{id}")).collect::<Vec<_>>())]
async fn raced(invalidate_mine: bool) -> Vec<u64> {
    RACED_RUNS.bump();
    if invalidate_mine {
        // In memory only: this cannot fail.
        let _ = cached_query::invalidate_tag("rt-item:5").await;
    }
    vec![5, 6]
}

#[tokio::test]
async fn a_result_whose_tag_was_invalidated_while_it_ran_is_not_stored() {
    let before = counts("raced");
    raced(true).await;
    raced(true).await;
    assert_eq!(
        RACED_RUNS.get(),
        2,
        "the value read before the write is never served"
    );
    assert_eq!(counts("raced").since(&before).not_cached, 2);

    // Without that invalidation the same value is stored.
    cached_query::invalidate_tag("rt-item:unrelated")
        .await
        .unwrap();
    raced(false).await;
    raced(false).await;
    assert_eq!(RACED_RUNS.get(), 3);
}
