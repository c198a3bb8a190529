/* error.h: one error convention for all of tally.
 *
 * Functions return 0 on success or a negative code: -errno for system
 * errors, or one of the TALLY_E* codes below, which live in a range no
 * errno reaches. tally_strerror() explains both.
 */
#ifndef TALLY_ERROR_H
#define TALLY_ERROR_H

enum {
  TALLY_EBASE = -20000,
  TALLY_EFRAME = TALLY_EBASE,   /* malformed frame */
  TALLY_EFRAME2BIG = -20001,    /* frame over the size limit */
  TALLY_EDECODE = -20002,       /* protobuf body does not decode */
  TALLY_EPERIOD = -20003,       /* malformed period */
  TALLY_ECATALOG = -20004,      /* catalog is invalid */
  TALLY_ENOTFOUND = -20005,     /* no such unit, element or indicator */
  TALLY_EVALUE = -20006,        /* value out of range or not a number */
  TALLY_ESTORE = -20007,        /* the LMDB store failed */
  TALLY_ESTOREFULL = -20008,    /* the LMDB map is full */
  TALLY_EPROTO = -20009,        /* peer broke the protocol */
  TALLY_EREMOTE = -20010,       /* the server answered with an error */
  TALLY_EUSAGE = -20011,        /* bad command-line usage */
  TALLY_ECSV = -20012,          /* malformed CSV input */
  TALLY_ECONFLICT = -20013,     /* the stored report moved on */
  TALLY_EIDREUSE = -20014,      /* a submission id used for other figures */
  TALLY_ERULES = -20015,        /* the figures break validation rules */
  TALLY_ETLS = -20016,          /* TLS failed: handshake or certificate */
  TALLY_EAUTH = -20017,         /* unknown, malformed or revoked token */
  TALLY_EPERM = -20018,         /* the account may not do this */
  TALLY_ELOCKED = -20019,       /* the period is locked */
  TALLY_EFORMAT = -20020,       /* a store of a format this build does not read */
  TALLY_EREVIEW = -20021,       /* the report's review does not allow it */
  TALLY_EDRYRUN = -20022,       /* checked and would be stored: a dry run */
  TALLY_ELAST = -20023
};

/* Returns a static, human-readable description of code (never NULL). */
const char *tally_strerror(int code);

#endif
