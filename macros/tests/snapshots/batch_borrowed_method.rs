async fn stock<'a>(&self, region: &str, skus: &'a [Sku]) -> BTreeMap<Sku, u32> {
    let __cq_site = {
        static __CQ_SITE: ::cached_query::__private::Site = ::cached_query::__private::Site::new(::cached_query::__private::SiteConfig {
            name: ::core::option::Option::None,
            store: ::core::option::Option::None,
            version: 0u32,
            ttl_ms: ::core::option::Option::None,
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
        __cq_key.receiver(&*self);
        __cq_key.arg(&region);
        __cq_key.item_here();
        __cq_key.finish()
    };
    let mut __cq_batch = match ::cached_query::__private::enter_batch(
            __cq_site,
            __cq_key,
            ::cached_query::__private::batch_codec_for::<
                ::cached_query::__private::ValuePolicy,
                BTreeMap<Sku, u32>,
                Sku,
                u32,
            >(
                ::cached_query::__private::codec_local_for::<
                    ::cached_query::__private::OptionPolicy,
                    ::core::option::Option<u32>,
                    _,
                >(__cq_instance),
            ),
            ::cached_query::__private::batch_items::<Sku, _, _>(skus, __cq_instance),
        )
        .await
    {
        ::cached_query::__private::BatchEnter::Hit(__cq_value) => return __cq_value,
        ::cached_query::__private::BatchEnter::Miss(__cq_batch) => __cq_batch,
    };
    __cq_batch
        .tag_items(|__cq_miss, sku| {
            __cq_miss.tag_fmt(::core::format_args!("{}:{}", self.shard, sku));
        });
    __cq_batch
        .weigh_values({
            use ::cached_query::__private::{
                WeighByEncoding as _, WeighBySize as _, WeighByTrait as _,
            };
            (&&&::cached_query::__private::ValueProbe::<
                ::cached_query::__private::OptionPolicy,
                ::core::option::Option<u32>,
            >::new())
                .weigher()
        });
    __cq_batch
        .share_clones({
            use ::cached_query::__private::{ShareByClone as _, ShareNothing as _};
            (&&::cached_query::__private::ShareProbe::<BTreeMap<Sku, u32>>::new())
                .probe()
        });
    __cq_batch
        .run(move |__cq_claimed| async move {
            let __cq_storage = __cq_claimed;
            let skus: &'_ [Sku] = &__cq_storage;
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
                let __cq_fake_return: BTreeMap<Sku, u32> = loop {};
                return __cq_fake_return;
            }
            { self.count(region, skus).await }
        })
        .await
}
