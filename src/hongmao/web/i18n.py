"""Every string the console and the demo pages show, in Chinese (the default) and English.

Templates call ``t("key")``; a missing key shows the key itself, so a typo is visible rather than silent.
The language comes from ``?lang=zh|en`` (remembered in the ``hm_lang`` cookie), else the cookie, else Chinese.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
COOKIE = "hm_lang"

MESSAGES: dict[str, tuple[str, str]] = {
    # chrome
    "app.name": ("红猫 · 品牌控制台", "Hongmao · Brand console"),
    "app.operator": ("红猫 · 平台运营", "Hongmao · Platform operations"),
    "nav.overview": ("概览", "Overview"),
    "nav.funnel": ("转化漏斗", "Funnel"),
    "nav.notes": ("笔记", "Notes"),
    "nav.creators": ("博主", "Creators"),
    "nav.campaigns": ("投放活动", "Campaigns"),
    "nav.models": ("模型对比", "Models"),
    "nav.links": ("种草直达链接", "Links"),
    "nav.platform": ("平台总览", "Platform"),
    "nav.keys": ("API 密钥", "API keys"),
    "nav.trust": ("社区信任", "Trust"),
    "nav.community": ("演示社区", "Demo community"),
    "nav.signout": ("退出", "Sign out"),
    "nav.docs": ("API 文档", "API docs"),
    "scope.all": ("全部品牌", "All brands"),
    "scope.brand": ("品牌", "Brand"),
    "model": ("归因模型", "Model"),
    "lang.switch": ("English", "中文"),
    # the range picker (every report page) and its filters
    "range": ("时间范围", "Date range"),
    "range.all": ("全部", "All time"),
    "range.yesterday": ("昨天", "Yesterday"),
    "range.7d": ("近 7 天", "Last 7 days"),
    "range.30d": ("近 30 天", "Last 30 days"),
    "range.custom": ("自定义", "Custom"),
    "range.from": ("开始", "From"),
    "range.to": ("结束", "To"),
    "range.compare": ("对比上一周期", "Compare with previous period"),
    "range.apply": ("应用", "Apply"),
    "range.reset": ("重置", "Reset"),
    "range.showing": (
        "{start} 至 {end} · 共 {days} 天 · {tz} 时区",
        "{start} to {end} · {days} days · {tz} time",
    ),
    "range.whole": ("全部数据（最新数据日 {newest}）", "All data (newest day with data: {newest})"),
    "range.empty": ("全部数据（暂无数据）", "All data (none yet)"),
    "range.previous": ("对比 {start} 至 {end}", "compared with {start} to {end}"),
    "range.anchor": (
        "“昨天 / 近 N 天”以最新数据日 {newest} 为准",
        "“Yesterday / last N days” end on the newest day with data, {newest}",
    ),
    "filter.campaign": ("投放活动", "Campaign"),
    "filter.tier": ("博主层级", "Creator tier"),
    "filter.item": ("商品", "Item"),
    "filter.category": ("品类", "Category"),
    "filter.touches": ("触点类型", "Touch kinds"),
    "filter.disclosed": ("报备", "Disclosed"),
    "filter.any": ("全部", "Any"),
    "filter.yes": ("仅已报备", "Disclosed only"),
    "filter.no": ("仅未报备", "Undisclosed only"),
    "filter.active": ("筛选中", "Filtered"),
    "touch.search": ("回搜", "search"),
    "col.net_gmv_previous": ("上期净 GMV", "Previous net GMV"),
    "col.change": ("环比", "Change"),
    "compare.previous": ("上期", "Previous"),
    "compare.change": ("环比", "Change"),
    # models
    "model.first": ("首次触点", "First touch"),
    "model.last": ("末次触点", "Last touch"),
    "model.linear": ("线性", "Linear"),
    "model.time_decay": ("时间衰减", "Time decay"),
    "model.position": ("位置（U 型）", "Position (U-shaped)"),
    "model.markov": ("马尔可夫", "Markov"),
    "model.shapley": ("沙普利", "Shapley"),
    "model.hazard": ("风险率（生存分析）", "Hazard (survival)"),
    "model.datadriven": ("数据驱动（Shapley）", "Data-driven (Shapley)"),
    # sign in
    "login.title": ("登录控制台", "Sign in to the console"),
    "login.key": ("API 密钥", "API key"),
    "login.help": (
        "使用 hongmao keys create --brand 品牌 生成的密钥登录。",
        "Sign in with a key made by hongmao keys create --brand BRAND.",
    ),
    "login.submit": ("登录", "Sign in"),
    "login.bad": ("密钥无效或已吊销。", "That key is not valid or was revoked."),
    # overview
    "kpi.spend": ("投放花费", "Spend"),
    "kpi.attributed_gmv": ("归因 GMV", "Attributed GMV"),
    "kpi.attributed_net_gmv": ("归因净 GMV", "Attributed net GMV"),
    "kpi.roi": ("品牌归因ROI", "Brand attributed ROI"),
    "kpi.orders": ("成交订单", "Orders"),
    "kpi.attributed_orders": ("归因订单", "Attributed orders"),
    "kpi.new_customer_share": ("新客占比", "New-customer share"),
    "kpi.gmv": ("GMV", "GMV"),
    "kpi.net_gmv": ("净 GMV", "Net GMV"),
    "kpi.roi_help": (
        "全部笔记（含自然笔记）的归因净 GMV ÷ 全部活动花费：不是某个活动的 ROI，也不是增量",
        "every note's attributed net GMV (organic ones too) ÷ all campaigns' spend: no one campaign's ROI, "
        "and not incremental",
    ),
    "kpi.of_total": ("全部", "of all"),
    "chart.daily": ("每日趋势", "Daily trend"),
    "chart.gmv": ("GMV", "GMV"),
    "chart.attributed_gmv": ("归因 GMV", "Attributed GMV"),
    "chart.net": ("归因净 GMV", "Attributed net GMV"),
    "chart.spend": ("花费", "Spend"),
    "chart.orders": ("订单", "Orders"),
    "orders.recent": ("最新订单", "Latest orders"),
    "orders.id": ("订单号", "Order"),
    "orders.time": ("时间（北京）", "Time (UTC+8)"),
    "orders.item": ("商品", "Item"),
    "orders.amount": ("金额", "Amount"),
    "orders.refunded": ("退款", "Refunded"),
    "orders.credit": ("归因到", "Credited to"),
    "orders.unattributed": ("自然成交（未归因）", "Organic (unattributed)"),
    "orders.split_note": ("按 {model} 模型拆分", "split under the {model} model"),
    "suppressed": ("人数少于 {k}，已隐藏", "fewer than {k} people: hidden"),
    "empty": ("暂无数据", "No data yet"),
    # funnel
    "funnel.title": ("种草到拔草转化漏斗", "From seeding to purchase"),
    "funnel.impressions": ("曝光", "Impressions"),
    "funnel.reads": ("阅读", "Reads"),
    "funnel.clicks": ("点击", "Clicks"),
    "funnel.store_visits": ("进店", "Store visits"),
    "funnel.search_back_users": ("回搜人数", "Search-back users"),
    "funnel.carts": ("加购", "Carts"),
    "funnel.orders": ("成交", "Orders"),
    "funnel.refunds": ("退款", "Refunds"),
    "funnel.step": ("环节", "Step"),
    "funnel.count": ("数量", "Count"),
    "funnel.rates": ("关键比率", "Rates"),
    "rate.read_rate": ("阅读率", "Read rate"),
    "rate.engagement_rate": ("互动率", "Engagement rate"),
    "rate.ctr": ("点击率 CTR", "CTR"),
    "rate.store_visit_rate": ("进店率", "Store-visit rate"),
    "rate.search_back_rate": ("回搜率", "Search-back rate"),
    "funnel.people": ("跨平台匹配人数", "People matched across the two sides"),
    "funnel.log_note": ("柱长为对数刻度", "bars on a log scale"),
    # tables
    "col.note": ("笔记", "Note"),
    "col.title": ("标题", "Title"),
    "col.creator": ("博主", "Creator"),
    "col.tier": ("层级", "Tier"),
    "col.disclosed": ("报备", "Disclosed"),
    "col.published": ("发布", "Published"),
    "col.impressions": ("曝光", "Impressions"),
    "col.reads": ("阅读", "Reads"),
    "col.engagements": ("互动", "Engagements"),
    "col.clicks": ("点击", "Clicks"),
    "col.ctr": ("CTR", "CTR"),
    "col.orders": ("归因订单", "Orders"),
    "col.orders_low": ("归因订单 90% 区间下限", "Orders, 90% interval low"),
    "col.orders_high": ("归因订单 90% 区间上限", "Orders, 90% interval high"),
    "baseline.shown": (
        "基线：{orders} 单（占该模型归因订单的 {share}）本来就会发生，不计入任何笔记",
        "Baseline: {orders} orders ({share} of the orders this model credits) would have happened anyway and are "
        "credited to no note",
    ),
    "baseline.withheld": ("基线：人数少于 {k}，已隐藏", "Baseline: fewer than {k} people, hidden"),
    "col.gmv": ("归因 GMV", "GMV"),
    "col.net_gmv": ("归因净 GMV", "Net GMV"),
    "col.notes": ("笔记数", "Notes"),
    "col.campaign": ("活动", "Campaign"),
    "col.spend": ("花费", "Spend"),
    "col.attributed_roi": ("活动归因ROI", "Campaign attributed ROI"),
    "col.brand_roi": ("品牌归因ROI", "Brand attributed ROI"),
    # creator economics (蒲公英's view)
    "col.fee": ("合作费用", "Fees"),
    "col.cpm": ("CPM 千次曝光成本", "CPM (per 1,000 impressions)"),
    "col.cpe": ("CPE 单次互动成本", "CPE (per engagement)"),
    "col.cost_per_order": ("单个归因订单成本", "Cost per attributed order"),
    "col.fee_attributed_roi": ("费用归因ROI", "Attributed ROI on fees"),
    "col.fee_incremental_roi": ("费用增量ROI（分摊）", "Incremental ROI on fees (shared)"),
    "econ.help": (
        "费用来自品牌的合作记录（collaboration.created）。费用归因ROI = 归因净 GMV ÷ 费用；"
        "费用增量ROI = 所在活动经留出组实测的增量净 GMV，按笔记在活动内的归因份额分摊后 ÷ 费用"
        "（不在有留出组的活动中则为 —）。",
        "Fees come from the brand's collaboration records (collaboration.created). Attributed ROI on fees = "
        "attributed net GMV ÷ fees; incremental ROI on fees = the campaign's holdout-measured incremental net GMV, "
        "shared by each note's attributed credit within the campaign, ÷ fees (— outside a campaign with a holdout).",
    ),
    "econ.notes": ("笔记的费用与回报", "Notes: fees and returns"),
    # drill-down
    "drill.note_orders": ("这篇笔记分到功劳的订单", "Orders this note is credited with"),
    "drill.share": ("本笔记份额", "This note's share"),
    "drill.credited_net": ("分得净 GMV", "Credited net GMV"),
    "drill.kinds": ("触点类型", "Touch kinds"),
    "drill.journey": ("购买路径", "Journey"),
    "drill.touch": ("触点", "Touch"),
    "drill.credit": ("功劳", "Credit"),
    "touch.impression": ("曝光", "impression"),
    "touch.read": ("阅读", "read"),
    "touch.engagement": ("互动", "engagement"),
    "touch.click": ("点击", "click"),
    # one ROI story (campaign page)
    "roi.title": ("三种 ROI，各说一件事", "Three ROIs, three questions"),
    "roi.attributed": ("活动归因ROI", "Campaign attributed ROI"),
    "roi.attributed_help": (
        "{model} 模型分给活动笔记的归因净 GMV ÷ 活动花费（全部数据期）",
        "net GMV the {model} model credits to the campaign's notes ÷ its spend (whole lake)",
    ),
    "roi.at_cycle": ("活动归因ROI(T+{x})", "Campaign attributed ROI(T+{x})"),
    "roi.at_cycle_help": (
        "同样的归因（{model}），只算活动开始到结束后 {x} 天（{why}）的订单",
        "the same credit ({model}), orders from the start to {x} days after the end only ({why})",
    ),
    "roi.x_from.cycle": ("品类决策周期", "the category's decision cycle"),
    "roi.x_from.default window": ("未估出决策周期，用默认窗口", "no decision cycle estimated: the default window"),
    "roi.incremental": ("活动增量ROI", "Campaign incremental ROI"),
    "roi.incremental_help": (
        "留出组实验：实验组比随机留出组多出的净 GMV ÷ 花费，同一 T+{x} 窗口",
        "holdout test: net GMV the treated group bought beyond the randomly held-out one ÷ spend, same T+{x}",
    ),
    "roi.ci95": ("95% 区间", "95% interval"),
    "roi.lift": ("留出组增量", "Holdout lift"),
    "roi.incremental_orders": ("增量订单", "Incremental orders"),
    "roi.incremental_gmv": ("增量 GMV", "Incremental GMV"),
    "roi.incremental_net_gmv": ("增量净 GMV", "Incremental net GMV"),
    "roi.groups": ("实验组 {t} 人 · 留出组 {h} 人", "treated {t} people · held out {h}"),
    "roi.unavailable": ("无法计算：{reason}", "Not available: {reason}"),
    "roi.repro": ("命令行复现", "Reproduce"),
    "why.lower": (
        "为什么不同：归因ROI 把触达后的订单都记给笔记，包括本来就会买的；"
        "增量ROI 只算留出组证明由活动带来的部分，所以更低。",
        "Why they differ: attributed ROI credits every order that followed a touch, including those that would "
        "have happened anyway; incremental ROI counts only what the holdout shows the campaign caused, so it "
        "is lower.",
    ),
    "why.higher": (
        "为什么不同：留出组显示活动带来的订单比归因到的更多——有些购买没有留下可归因的触点（如口碑、线下），归因看不到。",
        "Why they differ: the holdout shows the campaign caused more than attribution credits: some purchases left "
        "no touch that attribution can see (word of mouth, offline).",
    ),
    "why.spans_zero": (
        "为什么不同：归因ROI 把触达后的订单都记给笔记；而增量ROI 的 95% 区间包含 0，"
        "留出组无法区分活动效果与本来就会发生的购买。",
        "Why they differ: attributed ROI credits every order that followed a touch; the incremental ROI's 95% "
        "interval includes 0, so the holdout cannot tell the campaign's effect from purchases that would have "
        "happened anyway.",
    ),
    "why.no_lift": (
        "归因ROI 把触达后的订单都记给笔记，不等于活动带来的增量；增量要靠留出组测量，这里没有。",
        "Attributed ROI credits every order that followed a touch, which is not what the campaign caused; that "
        "takes a holdout, which is not available here.",
    ),
    "col.period": ("周期", "Period"),
    "col.brand": ("品牌", "Brand"),
    "col.disclosure_share": ("报备率", "Disclosed share"),
    "yes": ("已报备", "Yes"),
    "no": ("未报备", "No"),
    "csv": ("导出 CSV", "Export CSV"),
    "sort.hint": ("点击表头排序", "Click a heading to sort"),
    # models page
    "models.title": ("同一批笔记在各模型下的功劳", "The same notes' credit under each model"),
    "models.metric": ("指标", "Metric"),
    "models.help": (
        "末次触点只奖励最后一次接触；线性、时间衰减和位置模型把功劳分给路径上的每篇笔记；马尔可夫和沙普利从数据中估计每篇笔记的边际贡献。",
        "Last touch rewards only the final contact; linear, time decay and position share credit along the path; "
        "Markov and Shapley estimate each note's marginal contribution from the data.",
    ),
    "models.by": ("维度", "By"),
    "by.note": ("笔记", "Note"),
    "by.creator": ("博主", "Creator"),
    "by.campaign": ("活动", "Campaign"),
    "by.item": ("商品", "Item"),
    "models.pending": (
        "仍在后台计算：{models}。其余模型已就绪，稍后刷新即可看到全部。",
        "Still computing in the background: {models}. The other models are ready; reload later to see all.",
    ),
    "models.reload": ("刷新", "Reload"),
    "models.failed": (
        "以下模型无法在这批数据上计算：{models}（详情见服务日志）。数据更新后会重新计算。",
        "These models could not be computed on this data: {models} (the server log says why). They are tried again "
        "when the data changes.",
    ),
    "models.total": ("归因订单合计", "Attributed orders"),
    # links
    "links.title": ("种草直达链接", "Shoppable links"),
    "links.create": ("新建链接", "New link"),
    "links.note": ("笔记", "Note"),
    "links.item": ("商品", "Item"),
    "links.market": ("平台", "Marketplace"),
    "links.url": ("落地页（可选）", "Landing page (optional)"),
    "links.expires": ("有效天数（可选）", "Valid for days (optional)"),
    "links.submit": ("创建", "Create"),
    "links.copy": ("复制", "Copy"),
    "links.copied": ("已复制", "Copied"),
    "links.code": ("口令", "Share code"),
    "links.status": ("状态", "Status"),
    "links.active": ("生效中", "Active"),
    "links.revoked": ("已吊销", "Revoked"),
    "links.expired": ("已过期", "Expired"),
    "links.revoke": ("吊销", "Revoke"),
    "links.created": ("链接已创建", "Link created"),
    "links.revoked_ok": ("链接已吊销", "Link revoked"),
    "links.clicks": ("点击", "Clicks"),
    "links.link": ("链接", "Link"),
    "links.none": ("还没有链接。", "No links yet."),
    "trust.filters_ignored": (
        "风控判断覆盖全部笔记：此页只按日期范围，不按筛选条件。",
        "The guard judges every note: this page follows the date range, not the filters.",
    ),
    "trust.as_of": (
        "标记依据截至 {day} 的全部数据（所选范围的最后一天）。",
        "Flags judged on all data up to {day} (the range's last day).",
    ),
    "links.bot_clicks": ("机器人与预览", "Bots and previews"),
    "links.detail": ("链接详情", "Link detail"),
    "links.by_day": ("每日点击", "Clicks per day"),
    "links.devices": ("设备类型", "Device class"),
    "links.device.app": ("App 内", "In-app"),
    "links.device.browser": ("浏览器", "Browser"),
    "links.device.unknown": ("未知", "Unknown"),
    "links.device.preview": ("链接预览", "Link preview"),
    "links.device.bot": ("机器人", "Bot"),
    "links.conversions": ("经此链接的进店与成交", "Visits and orders through this link"),
    "links.conversions_note": (
        "只计带有此链接点击 ID 的进店和订单（点击链路），不是模型给笔记的功劳。",
        "Only visits and orders carrying one of this link's click ids (the click chain), not a model's credit.",
    ),
    "links.visits": ("进店", "Store visits"),
    "links.visitors": ("进店人数", "Visitors"),
    "links.orders": ("订单", "Orders"),
    "links.buyers": ("买家", "Buyers"),
    "links.visit_rate": ("进店率", "Visit rate"),
    "links.order_rate": ("成交率", "Order rate"),
    "links.no_clicks": ("此范围内没有点击。", "No clicks in this range."),
    "error": ("出错了", "Something went wrong"),
    # platform and keys
    "platform.title": ("各品牌表现", "Brands at a glance"),
    # trust guard (operators)
    "trust.title": ("社区信任守护", "Trust guard"),
    "trust.trend": ("信息流商业化占比（按日）", "Commercial share of feeds, by day"),
    "trust.trend_hint": (
        "每天用户看到的笔记中，与品牌有商业关联的占比，以及其中未报备的占比。",
        "Of the notes people were shown each day: the share tied to a brand, and the share tied and unlabelled.",
    ),
    "trust.commercial_share": ("商业笔记占比", "Commercial share"),
    "trust.undisclosed_share": ("未报备商业笔记占比", "Undisclosed share"),
    "trust.flagged_notes": ("被标记的笔记", "Flagged notes"),
    "trust.flagged_creators": ("被标记的博主", "Flagged creators"),
    "trust.flagged_accounts": ("水军账号", "Fake-engagement accounts"),
    "trust.commercial_notes": ("商业笔记", "Commercial notes"),
    "trust.flags": ("标记", "Flags"),
    "trust.score": ("种骗分", "Deception score"),
    "trust.interval": ("90% 区间", "90% interval"),
    "trust.orders": ("归因订单", "Credited orders"),
    "trust.credit_model": ("归因订单按「{model}」模型计算。", "Credited orders by the {model} model."),
    "trust.evidence": ("证据", "Evidence"),
    "trust.showing": (
        "显示前 {n} 条；完整列表见 API /api/v1/reports/trust 或 hongmao trust",
        "First {n} shown; all in API /api/v1/reports/trust or hongmao trust",
    ),
    "trust.none": ("没有被标记的条目。", "Nothing flagged."),
    "flag.undisclosed": ("未报备", "Undisclosed"),
    "flag.deceptive": ("种骗", "Deceptive"),
    "flag.fake_engagement": ("虚假互动", "Fake engagement"),
    "keys.title": ("API 密钥", "API keys"),
    "keys.create": ("新建密钥", "New key"),
    "keys.role": ("角色", "Role"),
    "keys.label": ("备注", "Label"),
    "keys.created": ("创建时间", "Created"),
    "keys.new_key": ("新密钥（只显示这一次）", "New key (shown only once)"),
    "role.brand": ("品牌", "Brand"),
    "role.operator": ("平台运营", "Operator"),
    # demo community and store
    "demo.community": ("红猫社区", "Hongmao community"),
    "demo.feed": ("发现", "Discover"),
    "demo.sponsored": ("赞助 · 已报备", "Sponsored · disclosed"),
    "demo.direct": ("种草直达", "Shop this note"),
    "demo.go": ("去看看", "View"),
    "demo.back": ("返回", "Back"),
    "demo.store": ("红猫小店", "Hongmao mini-mall"),
    "demo.buy": ("立即购买", "Buy now"),
    "demo.cart": ("加入购物车", "Add to cart"),
    "demo.carted": ("已加入购物车", "Added to cart"),
    "demo.price": ("价格", "Price"),
    "demo.paid": ("支付成功", "Payment successful"),
    "demo.order_no": ("订单号", "Order number"),
    "demo.refund": ("申请退款", "Request a refund"),
    "demo.refunded": ("已退款", "Refunded"),
    "demo.from_note": ("来自笔记的种草直达", "Came from a note's shopping card"),
    "demo.search": ("搜索商品或品牌", "Search items or brands"),
    "demo.search_go": ("搜索", "Search"),
    "demo.results": ("搜索结果", "Results"),
    "demo.console": ("去品牌控制台看看这笔订单", "See this order in the brand's console"),
    "demo.reads": ("阅读", "reads"),
    "demo.you": ("你（演示访客）", "You (demo visitor)"),
    # settlement: statements and ROI guarantees (对赌)
    "nav.audiences": ("AIPS 人群", "AIPS audiences"),
    "nav.settle": ("佣金结算", "Settlement"),
    "nav.guarantees": ("效果对赌", "ROI guarantees"),
    "settle.title": ("博主佣金对账单", "Creator commission statements"),
    "settle.help": (
        "按博主和自然月（UTC）列出：本期入账、冲回、追回、作废、已付，以及期末待确认、已锁定、冻结（附原因）和应付余额；单位：元。",
        "Per creator and calendar month (UTC): earned, reversed, clawed back, voided and paid in the period; "
        "pending, locked, held (with the reason) and payable at its end; in yuan.",
    ),
    "settle.period": ("账期", "Period"),
    "settle.all_periods": ("全部账期", "All periods"),
    "settle.all_creators": ("全部博主", "All creators"),
    "settle.earned": ("入账", "Earned"),
    "settle.reversed": ("退款冲回", "Reversed"),
    "settle.clawed_back": ("已付追回", "Clawed back"),
    "settle.voided": ("作废", "Voided"),
    "settle.paid": ("已付", "Paid"),
    "settle.pending_end": ("期末待确认", "Pending at end"),
    "settle.locked_end": ("期末已锁定", "Locked at end"),
    "settle.held_end": ("期末冻结", "Held at end"),
    "settle.payable_end": ("期末应付", "Payable at end"),
    "settle.hold_reasons": ("冻结原因", "Hold reasons"),
    "settle.none": ("暂无对账记录。", "No statement lines yet."),
    "settle.held_title": ("风控冻结的佣金", "Commissions held by the trust guard"),
    "settle.no_holds": ("当前没有冻结的佣金。", "No commissions are held."),
    "guarantee.title": ("效果对赌结算", "ROI guarantee settlements"),
    "guarantee.help": (
        "合同约定在 T+x（活动结束后 x 天）衡量 ROI；未达目标时按约定比例返还差额，不超过上限。"
        "增量 ROI 的置信区间跨过目标时会注明，并按合同约定的规则结算。",
        "Each contract measures ROI at T+x (x days after the campaign's end); a shortfall is returned at the agreed "
        "share, up to the cap. When an incremental ROI's interval straddles the target the statement says so and "
        "applies the rule the contract names.",
    ),
    "guarantee.settled": ("已结算", "Settled"),
    "guarantee.open": ("未到期", "Open"),
    "guarantee.measure": ("衡量口径", "Measured as"),
    "guarantee.measure.attributed": ("归因 ROI", "Attributed ROI"),
    "guarantee.measure.incremental": ("增量 ROI（留出组实验）", "Incremental ROI (holdout lift)"),
    "guarantee.target": ("目标 ROI", "Target ROI"),
    "guarantee.spend": ("投放金额（元）", "Spend (yuan)"),
    "guarantee.x": ("衡量时点", "Measured at"),
    "guarantee.share": ("差额返还比例", "Share of shortfall returned"),
    "guarantee.cap": ("返还上限（元）", "Cap (yuan)"),
    "guarantee.straddle": ("区间跨目标时", "If the interval straddles"),
    "guarantee.rule.point": ("按点估计", "Point estimate"),
    "guarantee.rule.lower": ("按区间下限（保守）", "Lower bound (conservative)"),
    "guarantee.rule.upper": ("按区间上限", "Upper bound"),
    "guarantee.due": ("到期时间", "Due"),
    "guarantee.measured": ("实测 ROI", "Measured ROI"),
    "guarantee.interval": ("置信区间", "Interval"),
    "guarantee.no_interval": ("归因口径无区间", "No interval (attributed)"),
    "guarantee.used": ("结算依据 ROI", "ROI settled on"),
    "guarantee.shortfall": ("GMV 差额（元）", "Shortfall in net GMV (yuan)"),
    "guarantee.returned": ("按比例返还", "Share returned"),
    "guarantee.owed": ("应返还（元）", "Owed (yuan)"),
    "guarantee.capped": ("已按上限封顶", "Capped"),
    "guarantee.straddles": (
        "置信区间跨过目标：数据不能确定是否达标，按合同规则「{rule}」结算。",
        "The interval straddles the target: the data cannot tell whether it was met; settled by the contract's "
        "rule, {rule}.",
    ),
    "guarantee.why": ("结算说明：", "Why:"),
    "guarantee.entries": ("应返记录（只追加）", "What is owed, entry by entry (append-only)"),
    "guarantee.entry_kind": ("类型", "Kind"),
    "guarantee.entry_amount": ("本条金额", "Amount"),
    "guarantee.recorded": ("记录时间", "Recorded"),
    "guarantee.entry.settle": ("T+x 结算", "Settled at T+x"),
    "guarantee.entry.adjust": ("迟到数据调整", "Adjusted for late data"),
    "guarantee.none": ("暂无对赌合同。", "No ROI guarantees yet."),
    # figures of an earlier lake version, shown while the new ones are computed (console/fresh.py)
    "fresh.updating": (
        "数据更新中：以下为截至 {as_of} 的数据（数据湖版本 {version}），新数据算好后本页每 {seconds} 秒自动刷新。",
        "Updating: these figures are as of {as_of} (lake version {version}); the page reloads itself every "
        "{seconds} s until the new ones are in.",
    ),
    "fresh.computing_title": ("计算中", "Computing"),
    "fresh.computing": (
        "报表计算中：新数据首次计算尚未完成，本页每 {seconds} 秒自动刷新。",
        "Computing: the reports of the new data are not ready yet; the page reloads itself every {seconds} s.",
    ),
    # the differential-privacy budget on a brand key's pages (console/routes.py)
    "dp.noisy": (
        "差分隐私预算：本页的人数与金额已加入噪声（OpenDP）；本品牌已用 ε {spent} / {total}。",
        "Differential-privacy budget: this page's counts and sums carry noise (OpenDP); the brand has spent "
        "ε {spent} of {total}.",
    ),
    "dp.refused_title": ("差分隐私预算下不提供此页面", "Not shown under the differential-privacy budget"),
    "dp.refused.compare": (
        "模型对比包含拟合模型（马尔可夫、Shapley、风险模型、数据驱动），单个用户对其归因的贡献没有上界，无法加噪发布；"
        "各规则模型的加噪归因见笔记、达人、活动页面。",
        "The model comparison sets fitted models beside rule ones, and one person's share of a fitted model's "
        "credit has no bound, so no noisy answer exists; each rule model's noisy credit is on the notes, "
        "creators and campaigns pages.",
    ),
    "dp.refused.campaign_roi": (
        "活动 ROI 分析（增量 ROI 来自全体人群的对照组提升，ROI(T+x) 为另一窗口）"
        "不是有上界的个人贡献之和，无法加噪发布；活动的加噪归因见活动列表。",
        "The campaign ROI story (an incremental ROI from a holdout lift over everyone, ROI(T+x) over another "
        "window) is no per-person sum with a bound, so no noisy answer exists; the campaigns' noisy credit is "
        "on the campaigns list.",
    ),
    "dp.refused.order": (
        "单个订单就是一个人的购买：差分隐私预算下不向品牌提供单个订单、其归因或其路径；加噪的汇总见概览与归因页面。",
        "One order is one person's purchase: under the differential-privacy budget no single order, its credit "
        "or its journey is shown to a brand; the noisy totals are on the overview and attribution pages.",
    ),
    "dp.refused.budget": (
        "本页无法在差分隐私预算下提供（预算已用尽，或所选模型的个人贡献没有上界）。",
        "This page cannot be answered under the differential-privacy budget (the budget is spent, or the chosen "
        "model's per-person credit has no bound).",
    ),
    "dp.orders_refused": (
        "差分隐私预算下不显示单个订单。",
        "Single orders are not shown under the differential-privacy budget.",
    ),
}


def translate(lang: str) -> Callable[..., str]:
    index = 0 if lang == "zh" else 1

    def t(key: str, **params: object) -> str:
        text = MESSAGES[key][index] if key in MESSAGES else key
        return text.format(**params) if params else text

    return t


def pick(query: str | None, cookie: str | None) -> str:
    for value in (query, cookie):
        if value in LANGS:
            return value
    return DEFAULT_LANG
