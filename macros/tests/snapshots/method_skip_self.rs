async fn find(&self, (a, b): (u8, u8), Point { x, y: _ }: Point) -> Option<Row> {
    ::my_lib::cq::__private::cooperate().await;
    let __cq_site = {
        static __CQ_SITE: ::my_lib::cq::__private::Site = ::my_lib::cq::__private::Site::new(::my_lib::cq::__private::SiteConfig {
            name: ::core::option::Option::Some("repo.find"),
            store: ::core::option::Option::None,
            version: 2u32,
            ttl_ms: ::core::option::Option::Some(60000u64),
            cache_none: false,
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
        let mut __cq_key = ::my_lib::cq::__private::KeyBuilder::with_instance(
            __cq_site,
            __cq_id,
            __cq_instance,
        );
        __cq_key.arg(&a);
        __cq_key.arg(&b);
        __cq_key.arg(&x);
        __cq_key.finish()
    };
    let mut __cq_miss = match ::my_lib::cq::__private::enter(
        __cq_site,
        __cq_key,
        ::my_lib::cq::__private::codec_for::<
            ::my_lib::cq::__private::OptionPolicy,
            Option<Row>,
            _,
        >(__cq_instance),
    ) {
        ::my_lib::cq::__private::Enter::Hit(__cq_value) => return __cq_value,
        ::my_lib::cq::__private::Enter::Miss(__cq_miss) => __cq_miss,
    };
    __cq_miss
        .share_clones({
            use ::my_lib::cq::__private::{ShareByClone as _, ShareNothing as _};
            (&&::my_lib::cq::__private::ShareProbe::<Option<Row>>::new()).probe()
        });
    __cq_miss
        .run(async move {
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
                let __cq_fake_return: Option<Row> = loop {};
                return __cq_fake_return;
            }
            { self.lookup(a, b, x).await }
        })
        .await
}
