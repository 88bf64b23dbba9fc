/// Renames a user.
pub async fn rename(
    &self,
    id: u64,
    email: String,
    name: String,
) -> Result<User, DbError> {
    let __cq_put_0 = ::cached_query::__private::prepare_put(self.get_user(id)).await;
    let __cq_put_1 = ::cached_query::__private::prepare_put(
            user_by_email(&self.db, email.clone()),
        )
        .await;
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
    if let ::core::result::Result::Ok(__cq_value) = &__cq_result {
        let __cq_stored = ::core::clone::Clone::clone(__cq_value);
        ::cached_query::__private::store_put(__cq_put_0, __cq_stored).await;
        let __cq_stored = ::core::clone::Clone::clone(__cq_value);
        ::cached_query::__private::store_put(__cq_put_1, __cq_stored).await;
    }
    __cq_result
}
