# PGXS build of the extension. The pure C++ parts and eventgen are built by CMake (CMakeLists.txt).
# It also builds out of tree, as Debian's `dh --with pgxs` does:
#   make -C BUILDDIR -f SRCDIR/Makefile VPATH=SRCDIR USE_PGXS=1
# Every file is found from this Makefile's own directory (SOURCE_DIR), never from the current one,
# and everything built (objects, generated scripts) lands in the current directory.
SOURCE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# The paths of the source files matching the globs, relative to SOURCE_DIR.
source_files = $(patsubst $(SOURCE_DIR)/%,%,$(sort $(wildcard $(addprefix $(SOURCE_DIR)/,$(1)))))

EXTENSION = pg_ingest
MODULE_big = pg_ingest
# The versioned scripts are generated: each template (sql/extension/*.sql.in) gets every
# function's current definition (sql/functions, one file each) at its line "-- @functions".
SQL_TEMPLATES = $(call source_files,sql/extension/pg_ingest--*.sql.in)
SQL_FUNCTIONS = $(addprefix $(SOURCE_DIR)/,$(call source_files,sql/functions/*.sql))
DATA_built = $(SQL_TEMPLATES:.sql.in=.sql)
# Sources lie in layer folders: src/core/<part>, src/pg and src/pg/<part>. The JSON Lines decoder
# (src/core/jsonl) is not linked in until the loader reads JSON Lines: the library needs no
# simdjson before then.
OBJS = $(patsubst %.cpp,%.o,$(filter-out src/core/jsonl/%,\
	$(call source_files,src/core/*/*.cpp src/pg/*.cpp src/pg/*/*.cpp)))

# A packager's flags (Debian's dpkg-buildflags: hardening, -ffile-prefix-map) come in the
# environment; PGXS's Makefile.global assigns the server's own flags over them, so they are kept
# here and added after the server's, to every C++ file and to the link.
ifeq ($(origin CPPFLAGS),environment)
PACKAGER_CPPFLAGS := $(CPPFLAGS)
endif
ifeq ($(origin CXXFLAGS),environment)
PACKAGER_CXXFLAGS := $(CXXFLAGS)
endif
ifeq ($(origin LDFLAGS),environment)
PACKAGER_LDFLAGS := $(LDFLAGS)
endif

# The library knows which catalog version it works with: the control file's default_version.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(SOURCE_DIR)/pg_ingest.control)
# Includes name a header by its path from src/ ("pg/load/file_loader.hpp"), so each shows its layer.
PG_CPPFLAGS = -I$(SOURCE_DIR)/src -DPG_INGEST_VERSION='"$(EXTVERSION)"' $(PACKAGER_CPPFLAGS)
# -MMD: each object also records the headers it includes (its .d beside it), so a changed header
# rebuilds what uses it. -isystem makes PostgreSQL's own headers system headers: their warnings
# (unused parameters in inline functions, `register`) are theirs, not ours, on every major.
PG_CXXFLAGS = -std=c++17 -Wextra -isystem $(includedir_server) -isystem $(includedir_internal) \
	-MMD -MP $(PACKAGER_CXXFLAGS)
PG_LDFLAGS = $(PACKAGER_LDFLAGS)
# make ERROR_ON_WARNING=yes (CI: scripts/test.sh) turns every warning of ours into an error.
ERROR_ON_WARNING ?= no
ifeq ($(ERROR_ON_WARNING),yes)
PG_CXXFLAGS += -Werror
endif
EXTRA_CLEAN = $(OBJS:.o=.d)
SHLIB_LINK = -lcsv -lz -lzstd -lstdc++

REGRESS = $(notdir $(basename $(call source_files,sql/*.sql)))
REGRESS_OPTS = --inputdir=$(SOURCE_DIR) --load-extension=pg_ingest
# The regression tests' files (directories a source watches) live where the harness says
# (scripts/test_one_major.sh sets it), else under a fresh name in /tmp: two runs never share one.
ifneq ($(filter installcheck,$(MAKECMDGOALS)),)
ifeq ($(PG_INGEST_REGRESS_DIR),)
PG_INGEST_REGRESS_DIR := $(shell mktemp -u /tmp/pg_ingest_regress.XXXXXX)
endif
export PG_INGEST_REGRESS_DIR
endif

# Debian's PGXS would also emit LLVM bitcode with clang, which knows neither our C++17 flags
# nor needs to inline this module into JIT code: build the shared library only.
override with_llvm := no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The version define comes from the control file.
$(OBJS): $(SOURCE_DIR)/pg_ingest.control
-include $(OBJS:.o=.d)

# PGXS's rule, plus the object's directory: out of tree, src/pg/<part>/ does not exist yet.
%.o: %.cpp
	@mkdir -p $(@D)
	$(COMPILE.cc) -o $@ $<

sql/extension/%.sql: sql/extension/%.sql.in $(SQL_FUNCTIONS)
	@mkdir -p $(@D)
	@grep -qx -- '-- @functions' $< || { echo "$<: no line -- @functions" >&2; exit 1; }
	@{ sed '/^-- @functions$$/,$$d' $<; for f in $(SQL_FUNCTIONS); do cat "$$f"; echo; done; \
	   sed '1,/^-- @functions$$/d' $<; } >$@.tmp
	@mv $@.tmp $@

# make dist: pg_ingest-X.Y.tar.gz, the committed tree (git archive of HEAD) under pg_ingest-X.Y/,
# the source tarball a release ships.
.PHONY: dist
dist:
	git -C $(SOURCE_DIR) archive --format=tar.gz --prefix=$(EXTENSION)-$(EXTVERSION)/ \
		-o $(CURDIR)/$(EXTENSION)-$(EXTVERSION).tar.gz HEAD
	@echo "$(EXTENSION)-$(EXTVERSION).tar.gz"
