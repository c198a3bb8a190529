// The pages' words: simplified Chinese first, English by the switch.
const words = {
  title: ["长清区统计数据报送", "Changqing District statistics"],
  lang: ["English", "中文"],
  signIn: ["登录", "Sign in"],
  signOut: ["退出", "Sign out"],
  name: ["账户名称", "Account name"],
  password: ["密码", "Password"],
  newPassword: ["新密码（至少8个字符）", "New password (at least 8 characters)"],
  newPasswordAgain: ["再次输入新密码", "The new password again"],
  mustChange: ["这是管理员设置的初始密码，请设置新密码后继续。",
               "This is a first password set by the admin: choose a new one to go on."],
  differ: ["两次输入的新密码不一致", "The two new passwords differ"],
  periods: ["报告期", "Periods"],
  period: ["报告期", "Period"],
  state: ["状态", "State"],
  due: ["截止日期", "Due"],
  notSubmitted: ["未报送", "not submitted"],
  submitted: ["已报送", "submitted"],
  resubmitted: ["已重新报送", "submitted again"],
  returned: ["已退回", "returned"],
  approved: ["已审核通过", "approved"],
  reopened: ["已重新打开", "reopened"],
  reason: ["原因", "Reason"],
  open: ["填报", "Fill in"],
  back: ["返回报告期列表", "Back to the periods"],
  element: ["指标项", "Data element"],
  value: ["本期数", "This period"],
  lastYear: ["上年同期", "A year before"],
  ageGroup: ["年龄组", "Age group"],
  submit: ["报送", "Submit"],
  explain: ["请说明原因（上报说明）", "Explain why the figures are right"],
  errors: ["有逻辑性错误，请改正后再报送。", "Logical errors: correct them before submitting."],
  needExplain: ["有合理性警告，请填写说明。", "Warnings: explain them before submitting."],
  sending: ["正在发送", "Sending"],
  waiting: ["等待发送", "Waiting to be sent"],
  waitingNote: ["条报送尚未确认，网络恢复后会自动重新发送，不会重复保存。",
                "submission(s) not yet acknowledged: sent again once the network is back, and stored once."],
  sent: ["已保存", "Stored"],
  figures: ["项数据", "figures"],
  keptAt: ["填写于", "kept since"],
  sentWaiting: ["之前等待发送的报送已送达服务器：", "What was waiting has reached the server:"],
  hadIt: ["服务器在连接断开前已经保存，这次没有重复保存", "the server had stored it before the connection went: not stored twice"],
  offline: ["与服务器的连接已断开，正在重连…", "Disconnected from the server; reconnecting…"],
  ended: ["会话已结束，请重新登录。", "The session has ended: sign in again."],
  wholeNumber: ["请输入不小于0的整数", "a whole number, 0 or more"],
  number: ["请输入不小于0的数", "a number, 0 or more"],
  unit: ["单位", "Unit"],
  other: ["其他", "Other"],
  revision: ["版本", "revision"],
  refused: ["服务器拒绝了报送", "The server refused the submission"],
  denied: ["没有权限", "Permission denied"],
  history: ["修改历史与退回记录", "History and returns"],
  historyOf: ["历史", "History"],
  returns: ["退回的报表", "Returned reports"],
  returnedOn: ["退回时间", "Returned on"],
  by: ["审核人", "By"],
  toCorrect: ["待修改后重新报送", "to be corrected and sent again"],
  noReturns: ["没有被退回的报表。", "No report has been returned."],
  changes: ["修改历史", "Changes"],
  before: ["修改前", "Before"],
  after: ["修改后", "After"],
  noChange: ["没有修改记录。", "No changes."],
  explained: ["上报说明", "Explained"],
  more: ["显示更多", "Show more"],
};

let lang = localStorage.getItem("tally-lang") === "en" ? 1 : 0;

export function t(key) {
  const w = words[key];
  return w ? w[lang] : key;
}
export function en() { return lang === 1; }
export function toggle() {
  lang = 1 - lang;
  localStorage.setItem("tally-lang", lang ? "en" : "zh");
  document.documentElement.lang = lang ? "en" : "zh-CN";
}
// A catalog entry's name in the language shown.
export function named(x) { return (lang ? x.name_en : x.name_zh) || x.code; }
