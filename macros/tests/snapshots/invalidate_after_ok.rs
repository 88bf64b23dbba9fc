/// Renames a user.
pub async fn rename(
    &self,
    id: u64,
    user: UserRef,
    name: String,
) -> Result<User, DbError> {
    #![allow(clippy::needless_return)]
    let __cq_tags: ::std::vec::Vec<::std::string::String> = ::std::vec![
        ::std::string::String::from("users"), ::std::format!("user:{}", id),
        ::std::format!("org:{}", user.org_id)
    ];
    #[allow(clippy::let_unit_value)]
    let __cq_result = async move {
        #[allow(
            unreachable_code,
            unused,
            clippy::diverging_sub_expression,
            clippy::let_unit_value,
            clippy::unreachable,
            clippy::empty_loop,
            clippy::needless_return
        )]
        if false {
            let __cq_fake_return: Result<User, DbError> = loop {};
            return __cq_fake_return;
        }
        { self.db.rename(id, name).await }
    }
        .await;
    if ::core::result::Result::is_ok(&__cq_result) {
        let _ = ::cached_query::invalidate_tags(__cq_tags).await;
    }
    __cq_result
}
