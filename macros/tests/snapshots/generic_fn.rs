async fn load<T: Serialize, const N: usize>(
    self: Arc<Self>,
    mut value: T,
    query: impl AsRef<str>,
) -> Option<Vec<T>> {
    ::cached_query::__private::cooperate().await;
    let __cq_site = {
        static __CQ_SITE: ::cached_query::__private::Site = ::cached_query::__private::Site::new(::cached_query::__private::SiteConfig {
            name: ::core::option::Option::None,
            store: ::core::option::Option::None,
            version: 0u32,
            ttl_ms: ::core::option::Option::None,
            cache_none: true,
            none_ttl_ms: ::core::option::Option::Some(30000u64),
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
        let mut __cq_key = ::cached_query::__private::KeyBuilder::with_instance(
            __cq_site,
            __cq_id,
            __cq_instance,
        );
        __cq_key.receiver(&*self);
        __cq_key.arg(&value);
        __cq_key.arg(&query);
        __cq_key.finish()
    };
    let mut __cq_miss = match ::cached_query::__private::enter(
        __cq_site,
        __cq_key,
        ::cached_query::__private::codec_local_for::<
            ::cached_query::__private::OptionPolicy,
            Option<Vec<T>>,
            _,
        >(__cq_instance),
    ) {
        ::cached_query::__private::Enter::Hit(__cq_value) => return __cq_value,
        ::cached_query::__private::Enter::Miss(__cq_miss) => __cq_miss,
    };
    __cq_miss.tag_fmt(::core::format_args!("{{literal}}:{}", self.id));
    __cq_miss
        .weigh_values({
            use ::cached_query::__private::{
                WeighByEncoding as _, WeighBySize as _, WeighByTrait as _,
            };
            (&&&::cached_query::__private::ValueProbe::<
                ::cached_query::__private::OptionPolicy,
                Option<Vec<T>>,
            >::new())
                .weigher()
        });
    __cq_miss
        .share_clones({
            use ::cached_query::__private::{ShareByClone as _, ShareNothing as _};
            (&&::cached_query::__private::ShareProbe::<Option<Vec<T>>>::new()).probe()
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
                let __cq_fake_return: Option<Vec<T>> = loop {};
                return __cq_fake_return;
            }
            { None }
        })
        .await
}
