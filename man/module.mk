# man/: manual pages (installed by `make install`, system/install-tree).
# Every page must be clean under `mandoc -T lint -W warning`.
INT_TESTS += man/test-lint.sh
