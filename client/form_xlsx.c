/* form_xlsx.c: a unit's blank form as a workbook, with libxlsxwriter.
 *
 * The happy path: one sheet, written row by row, then closed (the
 * workbook is written to path only then). The failure mode: the file
 * cannot be written, said in libxlsxwriter's words.
 */
#include "form_xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

/* The figure of element in last (NULL when none). */
static const Tally__StoredValue *last_value(const Tally__ValuesReply *last,
                                            const char *element) {
  for (size_t i = 0; last && i < last->n_values; i++)
    if (strcmp(last->values[i]->element, element) == 0)
      return last->values[i];
  return NULL;
}

/* Excel's check of an input cell for element e. Texts live in the
 * caller's buffers, which must outlive the workbook's close. */
static void validation_of(const tally_element *e, lxw_data_validation *v,
                          char *message, size_t n) {
  memset(v, 0, sizeof *v);
  v->error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
  v->error_title = "\xe6\x95\xb0\xe5\x80\xbc\xe4\xb8\x8d\xe5\xaf\xb9 / Not allowed"; /* 数值不对 */
  if (e->type == TALLY_ELEMENT_STATUS && e->n_levels > 0) {
    size_t at = (size_t)snprintf(message, n, "\xe5\xa1\xab / one of:"); /* 填 */
    for (size_t k = 0; k < e->n_levels && at < n; k++)
      at += (size_t)snprintf(message + at, n - at, " %d=%s", e->levels[k].value,
                             e->levels[k].zh);
    if (strlen(message) > 250)
      message[250] = 0; /* Excel's limit is 255 */
    v->validate = LXW_VALIDATION_TYPE_INTEGER;
    v->criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
    v->minimum_number = e->levels[0].value;
    v->maximum_number = e->levels[e->n_levels - 1].value;
    v->input_message = message;
    v->error_message = message;
    return;
  }
  v->criteria = LXW_VALIDATION_CRITERIA_GREATER_THAN_OR_EQUAL_TO;
  v->minimum_number = 0;
  if (e->type == TALLY_ELEMENT_COUNT) {
    v->validate = LXW_VALIDATION_TYPE_INTEGER;
    snprintf(message, n, "\xe4\xb8\x8d\xe5\xb0\x8f\xe4\xba\x8e""0\xe7\x9a\x84"
             "\xe6\x95\xb4\xe6\x95\xb0 / a whole number, 0 or more"); /* 不小于0的整数 */
  } else {
    v->validate = LXW_VALIDATION_TYPE_DECIMAL;
    snprintf(message, n, "\xe4\xb8\x8d\xe5\xb0\x8f\xe4\xba\x8e""0\xe7\x9a\x84"
             "\xe6\x95\xb0 / a number, 0 or more"); /* 不小于0的数 */
  }
  v->error_message = message;
}

#define EXPLAIN_ROWS 5

int tally_form_xlsx_write(const tally_catalog *cat, int unit,
                          const char *period, const char *last_period,
                          const Tally__ValuesReply *last_year,
                          const char *path, char *err, size_t errlen) {
  const tally_unit *u = &cat->units[unit];
  int district = unit == cat->root;
  lxw_workbook *wb = workbook_new(path);
  if (wb == NULL) {
    snprintf(err, errlen, "cannot make the workbook %s", path);
    return -1;
  }
  lxw_worksheet *ws =
      workbook_add_worksheet(wb, "\xe5\xa1\xab\xe6\x8a\xa5\xe8\xa1\xa8"); /* 填报表 */
  lxw_format *title = workbook_add_format(wb);
  format_set_bold(title);
  format_set_font_size(title, 14);
  lxw_format *label = workbook_add_format(wb);
  format_set_bold(label);
  lxw_format *head = workbook_add_format(wb);
  format_set_bold(head);
  format_set_bg_color(head, 0xDDEBF7);
  format_set_border(head, LXW_BORDER_THIN);
  format_set_text_wrap(head);
  lxw_format *cell = workbook_add_format(wb);
  format_set_border(cell, LXW_BORDER_THIN);
  lxw_format *input = workbook_add_format(wb);
  format_set_border(input, LXW_BORDER_THIN);
  format_set_unlocked(input);
  format_set_bg_color(input, 0xFFF2CC);
  lxw_format *note = workbook_add_format(wb);
  format_set_italic(note);
  format_set_font_color(note, 0x595959);

  char text[1024];
  snprintf(text, sizeof text, "%s %s \xe5\xb9\xb4\xe6\x8a\xa5\xe8\xa1\xa8 / %s, "
           "figures for %s", u->name_zh, period, u->name_en, period); /* 年报表 */
  worksheet_merge_range(ws, 0, 0, 0, 5, text, title);
  /* The cells tally submit checks: whose form, for which period. */
  worksheet_write_string(ws, 1, 0, "\xe5\x8d\x95\xe4\xbd\x8d unit", label); /* 单位 */
  worksheet_write_string(ws, 1, 1, u->code, NULL);
  worksheet_write_string(ws, 1, 2, u->name_zh, NULL);
  worksheet_write_string(ws, 1, 3, u->name_en, NULL);
  worksheet_write_string(ws, 2, 0, "\xe6\x9c\x9f\xe9\x97\xb4 period", label); /* 期间 */
  worksheet_write_string(ws, 2, 1, period, NULL);
  snprintf(text, sizeof text,
           "\xe5\x9c\xa8 F \xe5\x88\x97\xe5\xa1\xab\xe5\x86\x99\xe6\x95\xb0"
           "\xe5\x80\xbc\xef\xbc\x8c\xe4\xb8\x8d\xe7\x9f\xa5\xe9\x81\x93\xe7"
           "\x9a\x84\xe7\x95\x99\xe7\xa9\xba / Fill in column F; leave a figure "
           "that is not known blank. Send it with: tally submit --unit %s "
           "--period %s --file FILE.xlsx", u->code, period);
  /* 在 F 列填写数值，不知道的留空 */
  worksheet_write_string(ws, 3, 0, text, note);

  int r = TALLY_FORM_XLSX_FIRST_ROW - 2; /* the header, 0-based */
  char last_head[64];
  snprintf(last_head, sizeof last_head, "\xe4\xb8\x8a\xe5\xb9\xb4 last year (%s)",
           last_period); /* 上年 */
  snprintf(text, sizeof text, "\xe6\x95\xb0\xe5\x80\xbc value (%s)", period); /* 数值 */
  worksheet_write_string(ws, r, 0, "\xe4\xbb\xa3\xe7\xa0\x81 code", head); /* 代码 */
  worksheet_write_string(ws, r, 1, "\xe5\x90\x8d\xe7\xa7\xb0", head);    /* 名称 */
  worksheet_write_string(ws, r, 2, "Name", head);
  worksheet_write_string(ws, r, 3, "\xe8\xae\xa1\xe9\x87\x8f\xe5\x8d\x95\xe4\xbd\x8d "
                         "unit", head); /* 计量单位 */
  worksheet_write_string(ws, r, 4, last_head, head);
  worksheet_write_string(ws, r, 5, text, head);

  /* Validation texts must live until the workbook is closed. */
  char (*messages)[300] = calloc(cat->n_elements + 1, sizeof *messages);
  if (messages == NULL) {
    workbook_close(wb);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  r++;
  for (size_t i = 0; i < cat->n_elements; i++) {
    const tally_element *e = &cat->elements[i];
    if (e->district_only != district)
      continue;
    lxw_data_validation v;
    validation_of(e, &v, messages[i], sizeof messages[i]);
    worksheet_write_string(ws, r, 0, e->code, cell);
    worksheet_write_string(ws, r, 1, e->name_zh, cell);
    worksheet_write_string(ws, r, 2, e->name_en, cell);
    char uom[160];
    snprintf(uom, sizeof uom, "%s%s%s", e->unit_zh ? e->unit_zh : "",
             e->unit_zh ? " " : "", e->unit ? e->unit : "");
    worksheet_write_string(ws, r, 3, uom, cell);
    const Tally__StoredValue *was = last_value(last_year, e->code);
    if (was)
      worksheet_write_number(ws, r, 4, was->value, cell);
    else
      worksheet_write_blank(ws, r, 4, cell);
    worksheet_write_blank(ws, r, TALLY_FORM_XLSX_VALUE_COL, input);
    worksheet_data_validation_cell(ws, r, TALLY_FORM_XLSX_VALUE_COL, &v);
    r++;
  }
  r++;
  worksheet_write_string(
      ws, r++, 0,
      "# \xe4\xb8\x8a\xe6\x8a\xa5\xe8\xaf\xb4\xe6\x98\x8e: A \xe5\x88\x97\xe5\x86\x99 "
      "explain:\xe8\xa7\x84\xe5\x88\x99\xe4\xbb\xa3\xe7\xa0\x81\xef\xbc\x8c"
      "F \xe5\x88\x97\xe5\x86\x99\xe8\xaf\xb4\xe6\x98\x8e / explanations: "
      "explain:RULE in column A, why the figures are right in column F",
      note); /* 上报说明: A 列写 explain:规则代码，F 列写说明 */
  for (int k = 0; k < EXPLAIN_ROWS; k++, r++) {
    worksheet_write_blank(ws, r, 0, input);
    worksheet_write_blank(ws, r, TALLY_FORM_XLSX_VALUE_COL, input);
  }

  worksheet_set_column(ws, 0, 0, 30, NULL);
  worksheet_set_column(ws, 1, 1, 28, NULL);
  worksheet_set_column(ws, 2, 2, 36, NULL);
  worksheet_set_column(ws, 3, 3, 12, NULL);
  worksheet_set_column(ws, 4, 5, 16, NULL);
  worksheet_freeze_panes(ws, TALLY_FORM_XLSX_FIRST_ROW - 1, 0);
  /* Locked cells stay locked; no password: protection against slips. */
  lxw_protection protect = {0};
  worksheet_protect(ws, NULL, &protect);

  lxw_error rc = workbook_close(wb);
  free(messages);
  if (rc != LXW_NO_ERROR) {
    snprintf(err, errlen, "cannot write %s: %s", path, lxw_strerror(rc));
    return -1;
  }
  return 0;
}
