include tests/unit/unit.mk
