pub async fn get_users(db: &Pool, ids: Vec<u64>) -> Result<HashMap<u64, User>, DbError> {
    let __cq_site = {
        static __CQ_SITE: ::cached_query::__private::Site = ::cached_query::__private::Site::new(::cached_query::__private::SiteConfig {
            name: ::core::option::Option::None,
            store: ::core::option::Option::None,
            version: 0u32,
            ttl_ms: ::core::option::Option::Some(300000u64),
            cache_none: true,
            none_ttl_ms: ::core::option::Option::None,
            stale_if_error_ms: ::core::option::Option::None,
            min_compute_ms: ::core::option::Option::None,
            revalidate_ms: ::core::option::Option::None,
            early_refresh: ::core::option::Option::None,
            err_ttl_ms: ::core::option::Option::None,
        });
        &__CQ_SITE
    };
    let __cq_instance = || {};
    let __cq_key = {
        #[allow(non_snake_case, dead_code)]
        fn __cq_id() {}
        let mut __cq_key = ::cached_query::__private::BatchKeyBuilder::with_instance(
            __cq_site,
            __cq_id,
            __cq_instance,
        );
        __cq_key.item_here();
        __cq_key.finish()
    };
    let mut __cq_batch = match ::cached_query::__private::enter_batch(
            __cq_site,
            __cq_key,
            ::cached_query::__private::batch_codec_for::<
                ::cached_query::__private::ResultPolicy,
                Result<HashMap<u64, User>, DbError>,
                u64,
                User,
            >(
                ::cached_query::__private::codec_for::<
                    ::cached_query::__private::OptionPolicy,
                    ::core::option::Option<User>,
                    _,
                >(__cq_instance),
            ),
            ::cached_query::__private::batch_items::<u64, _, _>(ids, __cq_instance),
        )
        .await
    {
        ::cached_query::__private::BatchEnter::Hit(__cq_value) => return __cq_value,
        ::cached_query::__private::BatchEnter::Miss(__cq_batch) => __cq_batch,
    };
    __cq_batch
        .tag_items(|__cq_miss, id| {
            __cq_miss.tag("users");
            __cq_miss.tag_fmt(::core::format_args!("user:{}", id));
        });
    __cq_batch.merge(2u64, 500u32);
    __cq_batch
        .share_clones({
            use ::cached_query::__private::{ShareByClone as _, ShareNothing as _};
            (&&::cached_query::__private::ShareProbe::<
                Result<HashMap<u64, User>, DbError>,
            >::new())
                .probe()
        });
    __cq_batch
        .run(move |__cq_claimed| async move {
            let ids: Vec<u64> = __cq_claimed;
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
                let __cq_fake_return: Result<HashMap<u64, User>, DbError> = loop {};
                return __cq_fake_return;
            }
            { db.load(&ids).await }
        })
        .await
}
