/* Names of transaction outcomes (enum vs_txn_outcome), for logs, JSON and the CLI. */
#ifndef VS_TXN_OUTCOME_H
#define VS_TXN_OUTCOME_H

/* "complete", "stale", ...; "invalid" for a number that is no outcome. */
const char *txn_outcome_name(unsigned int outcome);

#endif
