/*
 * options.h — network, database and transaction options. Every code of
 * FoundationDB 7.3 is accepted (2007 invalid_option otherwise); those with
 * an effect in the engine are applied, the rest are accepted and ignored
 * (docs/engine.md lists which). Integer options take 8 little-endian bytes
 * (2006 invalid_option_value otherwise or when out of range).
 */
#ifndef FOUND_ENGINE_OPTIONS_H
#define FOUND_ENGINE_OPTIONS_H

#include <stdint.h>
#include "util/base.h"

int network_option(int option, const uint8_t *value, int value_length);
int database_option(FDBDatabase *d, int option, const uint8_t *value, int value_length);
int transaction_option(FDBTransaction *tr, int option, const uint8_t *value, int value_length);

#endif
