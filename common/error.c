#include "error.h"

#include <string.h>

const char *tally_strerror(int code) {
  switch (code) {
  case 0: return "success";
  case TALLY_EFRAME: return "malformed frame";
  case TALLY_EFRAME2BIG: return "frame too large";
  case TALLY_EDECODE: return "message does not decode";
  case TALLY_EPERIOD: return "malformed period";
  case TALLY_ECATALOG: return "invalid catalog";
  case TALLY_ENOTFOUND: return "not found";
  case TALLY_EVALUE: return "value out of range";
  case TALLY_ESTORE: return "store error";
  case TALLY_ESTOREFULL: return "store is full";
  case TALLY_EPROTO: return "protocol error";
  case TALLY_EREMOTE: return "the server refused the request";
  case TALLY_EUSAGE: return "bad usage";
  case TALLY_ECSV: return "malformed CSV";
  case TALLY_ECONFLICT: return "the stored report has changed since";
  case TALLY_EIDREUSE: return "submission id already used";
  case TALLY_ERULES: return "the figures break the catalog's rules";
  case TALLY_ELOCKED: return "the period is locked";
  case TALLY_EREVIEW: return "the report's review does not allow it";
  case TALLY_EDRYRUN: return "checked on a dry run: nothing was stored";
  case TALLY_EFORMAT:
    return "the store is of a format this tallyd does not read (made by "
           "another version of tallyd)";
  case TALLY_ETLS: return "TLS failed";
  case TALLY_EAUTH: return "authentication failed";
  case TALLY_EPERM: return "permission denied";
  default: break;
  }
  if (code < 0 && code > TALLY_EBASE)
    return strerror(-code);
  return "unknown error";
}
