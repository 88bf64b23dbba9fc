//! `#[cache_invalidate]`: the tags of a write are invalidated after it succeeds (or before it
//! runs, with `before`), and only those.

use crate::{Runs, counts};
use cached_query::{cache_invalidate, cached_query};
use serde::Serialize;

static NAME_READS: Runs = Runs::new();

#[cached_query(tags = ["inv_ok_user:{id}"])]
async fn inv_ok_name(id: u64) -> String {
    NAME_READS.bump();
    format!("user {id}")
}

#[cache_invalidate(tags = ["inv_ok_user:{id}"])]
async fn inv_ok_rename(id: u64, name: String) -> Result<String, String> {
    if name.is_empty() {
        return Err("empty name".to_owned());
    }
    Ok(name) // `name` moved: the tag was formatted before the body ran
}

#[tokio::test]
async fn after_ok_the_reads_recompute_after_err_they_do_not() {
    inv_ok_name(1).await;
    inv_ok_name(1).await;
    assert_eq!(NAME_READS.get(), 1);

    assert_eq!(inv_ok_rename(1, "Ada".into()).await.as_deref(), Ok("Ada"));
    inv_ok_name(1).await;
    assert_eq!(NAME_READS.get(), 2, "`Ok` invalidated `inv_ok_user:1`");

    assert!(inv_ok_rename(1, String::new()).await.is_err());
    inv_ok_name(1).await;
    assert_eq!(NAME_READS.get(), 2, "`Err` invalidated nothing");
}

static BEFORE_READS: Runs = Runs::new();

#[cached_query(tags = ["inv_before:{id}"])]
async fn inv_before_read(id: u64) -> u64 {
    BEFORE_READS.bump();
    id
}

/// Reads `inv_before_read(id)` in its body: with `before`, the entry is already invalidated, so
/// the body sees a fresh computation.
#[cache_invalidate(tags = ["inv_before:{id}"], before)]
async fn inv_before_write(id: u64, fail: bool) -> Result<u64, String> {
    let runs = BEFORE_READS.get();
    inv_before_read(id).await;
    assert_eq!(BEFORE_READS.get(), runs + 1, "invalidated before the body");
    if fail {
        Err("failed".to_owned())
    } else {
        Ok(id)
    }
}

#[tokio::test]
async fn before_invalidates_even_on_err() {
    inv_before_read(7).await;
    assert_eq!(BEFORE_READS.get(), 1);

    assert!(inv_before_write(7, true).await.is_err());
    assert_eq!(BEFORE_READS.get(), 2);
    inv_before_read(7).await;
    assert_eq!(
        BEFORE_READS.get(),
        2,
        "nothing is invalidated after the body"
    );

    assert_eq!(inv_before_write(7, false).await, Ok(7));
    assert_eq!(BEFORE_READS.get(), 3);
}

static ACCOUNT_READS: Runs = Runs::new();

#[derive(Serialize)]
pub struct Owner {
    pub id: u32,
}

#[cached_query(tags = ["inv_account:{account}", "inv_owner:{owner.id}"])]
async fn inv_balance(account: u32, owner: &Owner) -> i64 {
    ACCOUNT_READS.bump();
    i64::from(account) * 10
}

pub struct Account {
    pub id: u32,
}

impl Account {
    #[cache_invalidate(tags = ["inv_account:{self.id}"])]
    async fn deposit(&self, amount: i64) -> Result<i64, String> {
        if amount <= 0 {
            return Err(format!("cannot deposit {amount}"));
        }
        Ok(amount)
    }

    #[cache_invalidate(tags = ["inv_owner:{owner.id}"])]
    async fn transfer_to(&mut self, owner: &Owner) -> Result<(), String> {
        self.id = owner.id;
        Ok(())
    }
}

#[tokio::test]
async fn a_method_invalidates_the_entries_of_its_templated_tags_only() {
    let (alice, bob) = (Owner { id: 1 }, Owner { id: 2 });
    inv_balance(10, &alice).await;
    inv_balance(20, &alice).await;
    inv_balance(30, &bob).await;
    assert_eq!(ACCOUNT_READS.get(), 3);

    let mut account = Account { id: 10 };
    // A failed write invalidates nothing: every read is still a hit.
    let before = counts("inv_balance");
    assert!(account.deposit(-5).await.is_err());
    inv_balance(10, &alice).await;
    inv_balance(20, &alice).await;
    inv_balance(30, &bob).await;
    assert_eq!(ACCOUNT_READS.get(), 3, "`Err` invalidated nothing");
    let during = counts("inv_balance").since(&before);
    assert_eq!((during.hits, during.misses, during.stale), (3, 0, 0));

    let before = counts("inv_balance");
    account.deposit(5).await.unwrap();
    inv_balance(10, &alice).await;
    inv_balance(20, &alice).await;
    inv_balance(30, &bob).await;
    assert_eq!(
        ACCOUNT_READS.get(),
        4,
        "`{{self.id}}` reached account 10 only"
    );
    let during = counts("inv_balance").since(&before);
    assert_eq!((during.hits, during.misses, during.stale), (2, 1, 1));

    account.transfer_to(&bob).await.unwrap();
    inv_balance(10, &alice).await;
    inv_balance(20, &alice).await;
    inv_balance(30, &bob).await;
    assert_eq!(
        ACCOUNT_READS.get(),
        5,
        "`{{owner.id}}` reached bob's entry only"
    );
    assert_eq!(account.id, 2);
}

static FLAG_READS: Runs = Runs::new();

#[cached_query(tags = ["inv_flag"])]
async fn inv_flag() -> bool {
    FLAG_READS.bump();
    true
}

/// Not a `Result`: every return invalidates, `None` and `false` too.
#[cache_invalidate(tags = ["inv_flag"])]
async fn inv_toggle(on: bool) -> Option<bool> {
    on.then_some(true)
}

/// An alias of `Result` read as a plain value: even `Err` invalidates.
type Outcome = Result<(), String>;

#[cache_invalidate(tags = ["inv_flag"], returns = "value")]
async fn inv_always(fail: bool) -> Outcome {
    if fail {
        Err("failed".to_owned())
    } else {
        Ok(())
    }
}

#[cache_invalidate(tags = ["inv_flag"])]
async fn inv_unit() {}

#[tokio::test]
async fn a_non_result_return_always_invalidates() {
    inv_flag().await;
    assert_eq!(FLAG_READS.get(), 1);
    assert_eq!(inv_toggle(false).await, None);
    inv_flag().await;
    assert_eq!(FLAG_READS.get(), 2);
    assert_eq!(inv_toggle(true).await, Some(true));
    inv_flag().await;
    assert_eq!(FLAG_READS.get(), 3);
    assert!(inv_always(true).await.is_err());
    inv_flag().await;
    assert_eq!(
        FLAG_READS.get(),
        4,
        "`returns = \"value\"`: `Err` invalidates too"
    );
    inv_unit().await;
    inv_flag().await;
    assert_eq!(FLAG_READS.get(), 5);
}

static ALIAS_READS: Runs = Runs::new();

#[cached_query(tags = ["inv_alias"])]
async fn inv_alias_read() -> u8 {
    ALIAS_READS.bump();
    1
}

#[cache_invalidate(tags = ["inv_alias"], returns = "result")]
async fn inv_alias_write(fail: bool) -> Outcome {
    if fail {
        Err("failed".to_owned())
    } else {
        Ok(())
    }
}

#[tokio::test]
async fn returns_result_reads_an_alias_as_a_result() {
    inv_alias_read().await;
    assert!(inv_alias_write(true).await.is_err());
    inv_alias_read().await;
    assert_eq!(ALIAS_READS.get(), 1);
    inv_alias_write(false).await.unwrap();
    inv_alias_read().await;
    assert_eq!(ALIAS_READS.get(), 2);
}

static SPAWN_READS: Runs = Runs::new();

#[cached_query(tags = ["inv_spawn:{id}"])]
async fn inv_spawn_read(id: u64) -> u64 {
    SPAWN_READS.bump();
    id
}

#[cache_invalidate(tags = ["inv_spawn:{id}"])]
async fn inv_spawn_write(id: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    Ok(id)
}

#[tokio::test]
async fn the_future_is_send_and_works_on_another_task() {
    inv_spawn_read(3).await;
    tokio::spawn(inv_spawn_write(3)).await.unwrap().unwrap();
    inv_spawn_read(3).await;
    assert_eq!(SPAWN_READS.get(), 2);
}
