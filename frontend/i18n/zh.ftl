# Hotline — 简体中文 (Simplified Chinese).
# MACHINE-DRAFTED: every string below was drafted by machine translation and awaits review
# by a native speaker. Covered: shell, login, sign-up, common messages, agent states and
# the agent desktop.
# Missing keys fall back to English (en.ftl).

app-name = Hotline

## Shell
shell-language = 语言
shell-logout = 退出登录
shell-main-nav = 主导航
shell-skip-to-content = 跳到正文
state-loading = 正在加载…
platform-console = 平台控制台
nav-agent = 座席工作台
nav-users = 用户
nav-teams = 团队
nav-skills = 技能
nav-queues = 队列
nav-roles = 角色
nav-reason-codes = 状态原因
nav-audit = 审计日志
nav-sso = 单点登录
nav-tenants = 租户
nav-ivr = 语音导航
nav-campaigns = 外呼活动
nav-tickets = 工单
nav-kb = 知识库
nav-customer-template = 客户模板
nav-names = 名称与翻译
nav-customer-import = 导入客户
flash-logged-out = 您已退出登录。
flash-no-access = 您无权访问该页面。
flash-operators-only = 该页面仅供平台运维人员使用，请以运维人员身份登录。
flash-session-expired = 会话已过期，请重新登录。
flash-signed-out = 您尚未登录，请重新登录。
flash-sign-in-first = 请先登录。
flash-signed-up = 您的呼叫中心已就绪。同事使用公司标识“{ $arg }”登录。
flash-user-created = 已创建用户 { $arg }。
notfound-title = 页面不存在
notfound-body = 此地址没有内容。
notfound-home = 返回首页

## Common
action-save = 保存
action-cancel = 取消
action-retry = 重试
action-dismiss = 关闭
action-search = 搜索
action-edit = 编辑
action-delete = 删除
answer-yes = 是
answer-no = 否
notice-saved = 已保存。
pager-prev = 上一页
pager-next = 下一页
pager-status = 第 { $page } / { $pages } 页 · 共 { $total } 条
form-required = 此项为必填项。
form-invalid-email = 请输入电子邮箱地址，例如 name@example.com。
form-password-mismatch = 两次输入的密码不一致。
password-hint = 至少 10 个字符。几个互不相关的词就是强密码；无需符号。
password-strength = 强度：{ $level }
password-strength-0 = 非常弱
password-strength-1 = 弱
password-strength-2 = 一般
password-strength-3 = 强
password-strength-4 = 非常强
password-problem-too-short = 至少需要 10 个字符。
password-problem-too-long = 最多 128 个字符。
password-problem-personal = 不能包含您的电子邮件地址、姓名或公司名称。
password-problem-weak = 太容易被猜到。请使用几个与您无关的词。
password-warning-straight-rows = 键盘上成排的按键很容易被猜到。
password-warning-keyboard-pattern = 简短的键盘图案很容易被猜到。
password-warning-repeats = 像“aaa”这样的重复很容易被猜到。
password-warning-repeated-words = 像“abcabcabc”这样的重复只比“abc”稍难猜一点。
password-warning-top10 = 这是最常见的 10 个密码之一。
password-warning-top100 = 这是最常见的 100 个密码之一。
password-warning-common = 这是一个非常常见的密码。
password-warning-similar-to-common = 这与一个常用密码相似。
password-warning-sequences = 像 abc 或 6543 这样的序列很容易被猜到。
password-warning-recent-years = 最近的年份很容易被猜到。
password-warning-single-word = 单个词很容易被猜到。
password-warning-dates = 日期通常很容易被猜到。
password-warning-names = 单独的名字和姓氏很容易被猜到。
password-warning-common-names = 常见的名字和姓氏很容易被猜到。
password-suggestion-few-words = 使用几个词；避免常见短语。
password-suggestion-no-symbols-needed = 无需符号、数字或大写字母。
password-suggestion-add-word = 再加一两个词。不常见的词更好。
password-suggestion-capitalization = 大写字母帮助不大。
password-suggestion-all-uppercase = 全部大写几乎和全部小写一样容易被猜到。
password-suggestion-reversed = 倒写的词并不难猜多少。
password-suggestion-substitutions = 可预测的替换（如用“@”代替“a”）帮助不大。
password-suggestion-longer-keyboard = 使用更长、转折更多的键盘图案。
password-suggestion-avoid-repeats = 避免重复的词和字符。
password-suggestion-avoid-sequences = 避免序列。
password-suggestion-avoid-recent-years = 避免最近的年份。
password-suggestion-avoid-your-years = 避免与您相关的年份。
password-suggestion-avoid-your-dates = 避免与您相关的日期和年份。
error-network = 无法连接服务器，请检查网络后重试。
error-server = 服务器出现问题，请稍后重试。
error-status = 请求失败（HTTP { $status }）。
problem-invalid-credentials = 公司标识、邮箱或密码错误。
problem-login-locked = 失败次数过多，请几分钟后再试。
problem-session-expired = 会话已过期，请重新登录。
problem-unauthenticated = 请先登录。
problem-forbidden = 您无权执行此操作。
problem-not-found = 未找到，可能已被删除。
problem-validation-failed = 部分字段需要修改。
problem-slug-taken = 该公司标识已被占用。
problem-email-taken = 已存在使用该邮箱的用户。
problem-tenant-suspended = 该公司的账户已暂停，请联系支持人员。

## Login
login-title = 登录 Hotline
login-tenant = 公司标识
login-tenant-hint = 公司注册时选择的简称，例如 acme。
login-email = 电子邮箱
login-password = 密码
login-submit = 登录
login-submitting = 正在登录…
login-or = 或
login-sso = 通过 SSO 登录（{ $company }）
login-no-account = 初次使用 Hotline？
login-signup-link = 创建呼叫中心
login-operator-link = 平台运维人员登录
sso-error-generic = 单点登录失败（{ $code }）。请重试或使用密码登录。

## Sign-up
signup-title = 创建您的呼叫中心
signup-intro = 您将成为第一位管理员，只需一分钟。
signup-company = 公司名称
signup-slug = 公司标识
signup-slug-hint = 用于登录。可用字母、数字和连字符；留空则根据公司名称生成。
signup-name = 您的姓名
signup-email = 您的邮箱
signup-password = 密码
signup-submit = 创建呼叫中心
signup-submitting = 正在创建…
signup-have-account = 已有账户？
signup-login-link = 登录

## Agent states
agent-state = 我的状态
agent-status-ready = 就绪
agent-status-not-ready = 未就绪
agent-status-break = 休息
agent-status-logged-out = 已签出
agent-status-ringing = 振铃中
agent-status-on-call = 通话中
agent-status-wrap-up = 话后处理
agent-option-not-ready = 未就绪 — { $reason }
agent-option-break = 休息 — { $reason }
agent-change-state = 切换状态为
agent-apply-state = 切换状态
agent-since = 自 { $time }

## Agent desktop (machine-drafted)
agent-title = 座席工作台
agent-shortcuts = 快捷键：Alt+1 状态 · Alt+2 软电话 · Alt+3 客户 · Alt+4 工单 · Alt+5 知识库
agent-softphone = 软电话
agent-softphone-placeholder = 为您的呼叫中心开通电话功能后，软电话将在此处连接。
agent-dial-number = 拨打号码
agent-call = 呼叫
agent-hold = 保持
agent-transfer = 转接
agent-hang-up = 挂断
agent-customer = 客户
agent-customer-placeholder = 当前没有通话。来电时，来电者的客户卡片将显示在此处。
agent-customer-name = 姓名
agent-customer-phone = 电话
agent-customer-account = 账户
agent-customer-history = 近期工单
agent-interaction = 工单
agent-interaction-placeholder = 通话期间对请求进行分类并记录备注。
agent-category = 类别
agent-notes = 备注
agent-save-interaction = 保存工单
agent-kb = 知识库
agent-kb-search = 搜索文章
agent-kb-placeholder = 知识库建立后，与搜索匹配的文章将显示在此处。
account-title = 我的账户

## IVR (headings and main actions; the rest falls back to English)
ivr-title = 语音导航 (IVR)
ivr-flows = 流程
ivr-flow-new = 新建流程
ivr-prompts = 语音提示
ivr-numbers = 号码
ivr-versions = 版本
ivr-publish = 发布
ivr-prompt-upload = 上传
ivr-flow-save = 保存为新版本
call-keypad = 拨号键盘
call-consult-to = 先咨询（号码或同事的分机号）
call-consult = 咨询
call-consult-dialling = 正在呼叫…来电者处于保持状态。
call-consult-talking = 您正在与被咨询方通话；来电者处于保持状态。
call-consult-conference-on = 会议：来电者、您和被咨询方。
call-consult-transfer = 将来电者转交
call-consult-conference = 三方会议
call-consult-cancel = 返回来电者
call-consult-leave = 离开，让他们继续通话
call-consult-drop = 挂断被咨询方

## Agent readiness: system reason codes, audio device, softphone loss
softphone-failed = 软电话未连接
softphone-reconnect = 重新连接
reason-builtin-missed = 未接来电
reason-builtin-rejected = 已拒绝
reason-builtin-softphone-lost = 软电话断开
reason-builtin-phone-unreachable = 电话无法接通
reasons-builtin = 内置
reasons-builtin-hint = 系统原因：由呼叫中心自动设置，不能删除或重命名。
problem-no-audio-device = 您还不能接听电话：软电话未连接，也没有已注册的座机。请在浏览器中允许使用麦克风并重新连接软电话，或注册您的座机，然后再次选择“就绪”。
problem-builtin-reason-code = 这是系统使用的内置原因代码，不能删除。
softphone-failed-why = 无法连接：{ $detail }
softphone-mic-denied = 麦克风访问被阻止。请在浏览器中允许本网站使用麦克风（地址栏中的图标），然后点击“重新连接”。在此之前，除非您的座机已注册，否则无法设为“就绪”。
softphone-mic-missing = 未找到麦克风。请插入耳机，然后点击“重新连接”。在此之前，除非您的座机已注册，否则无法设为“就绪”。
softphone-mic-busy = 麦克风正被其他程序使用或无法打开。请关闭该程序，然后点击“重新连接”。
softphone-mic-failed = 无法打开麦克风（{ $detail }）。请检查耳机，然后点击“重新连接”。
softphone-lost = 软电话连接已断开。请点击“重新连接”。
softphone-lost-not-ready = 软电话连接已断开，因此您已被设为“未就绪”（软电话断开）。请点击“重新连接”，然后再次选择“就绪”。
softphone-sound-blocked = 浏览器阻止了通话声音。请点击“启用声音”以听到来电者。
softphone-enable-audio = 启用声音
softphone-note-phone-not-registered = 您的座机没有应答：它未注册（480）。来电已回到队列。
softphone-note-phone-busy = 您的座机忙或拒绝了来电。来电已回到队列。
softphone-note-phone-declined = 已在座机上拒绝：来电已回到队列。
softphone-note-phone-no-answer = 您的座机没有及时响应。来电已回到队列。
softphone-note-phone-failed = 您的座机无法接听来电。来电已回到队列。
softphone-note-phone-failed-status = 您的座机无法接听来电（SIP { $status }）。来电已回到队列。
softphone-note-no-device = 来电无法转到您：软电话未连接，您也没有座机。来电已回到队列。
softphone-note-softphone-lost = 来电振铃时软电话连接已断开。来电已回到队列。

# Names and translations of the tenant's own names (categories, ticket types, statuses)
names-title = 名称与翻译
names-intro = 贵中心自定义的名称的各语言版本。用户看到其所用语言的名称；未提供翻译时显示原名称。
names-categories = 来电分类
names-ticket-types = 工单类型
names-statuses = 状态
names-moves = 流转（按钮）
names-translations = 翻译
names-saved = 翻译已保存。

## Outbound calls: operator console, gateway refusals, IVR transfer failure (machine-drafted, awaiting review)
platform-outbound = 外呼
platform-outbound-title = 外呼：{ $tenant }
platform-outbound-trial = 试用
platform-outbound-trial-hint = 试用中的呼叫中心最多同时 2 个外呼、每天 50 个、每秒 2 个。取消勾选以解除试用。
platform-outbound-countries = 允许的国家
platform-outbound-countries-hint = 国家代码，用逗号分隔（994, 48, 1）。留空：仅呼叫中心所在国家。
platform-outbound-blocked = 封禁的号码前缀
platform-outbound-blocked-hint = 在内置的付费号码列表之外拒绝的前缀，用逗号分隔（+99490）。
platform-outbound-max-calls = 同时通话数
platform-outbound-max-calls-hint = 同时进行的外呼数，0 到 100000。留空：平台默认值（200）。
platform-outbound-max-cps = 每秒呼叫数
platform-outbound-max-cps-hint = 每秒发起的外呼数，1 到 10000。留空：平台默认值（10）。媒体网关同样执行此限制。
platform-outbound-save = 保存外呼规则
platform-outbound-close = 关闭
platform-outbound-saved = 外呼规则已保存。媒体网关从下一通电话起执行。
platform-outbound-whole-number = 请输入整数或留空。
softphone-note-outbound-limit = 未拨出：该呼叫中心的同时外呼数已达上限。请在有通话结束后重试。
softphone-note-outbound-rate-limit = 未拨出：该呼叫中心本秒的外呼数已用完。请稍后重试。
campaign-outcome-outbound-limit = 已暂缓：同时通话数已达上限
campaign-outcome-outbound-rate-limit = 已暂缓：每秒呼叫数已达上限
ivr-field-transfer-failed = 转接失败时（留空：挂断）
ivr-outline-failed = 转接失败时
