# One plain Makefile. `make` builds the library, apps, tests and benchmarks; `make test` runs the
# suite; `make bench` runs the benchmarks; `make run` is the embedded default job.
# CUDA comes from CUDA_HOME; CUDA_ARCH lists the SASS targets (PTX of the last one is embedded).

CUDA_HOME ?= /usr/local/cuda
CUDA_ARCH ?= 80 90
NVCC := $(CUDA_HOME)/bin/nvcc
CXX ?= g++
BUILD ?= build
FIXTURES_DIR ?= ../shared/fixtures

# -Wno-restrict: GCC 12 reports false positives inside std::string at -O3 (GCC bug 105329).
WARNINGS := -Wall -Wextra -Werror -Wno-restrict
CXXFLAGS := -O3 -std=c++20 -g $(WARNINGS) -I. -isystem $(CUDA_HOME)/include -MMD -MP
LAST_ARCH := $(lastword $(CUDA_ARCH))
GENCODE := $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
           -gencode arch=compute_$(LAST_ARCH),code=compute_$(LAST_ARCH)
NVCCFLAGS := -O3 -std=c++20 -lineinfo -I. $(GENCODE) --expt-relaxed-constexpr \
             -Xcompiler=-Wall,-Wextra,-Werror -Werror=all-warnings -MMD -MP
LDLIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 \
          -lcudnn -lcublas -lcudart -lopenblas -lfmt -lpng -ljpeg -lzip -lz -lpthread

# DEPS_PREFIX: a folder holding the Debian packages unpacked (dpkg -x), for machines where they
# cannot be installed (the GPU machine has no network; see bench/gpu_session.sh).
DEPS_PREFIX ?=
INCLUDE_ROOT := $(DEPS_PREFIX)/usr/include
ifneq ($(DEPS_PREFIX),)
  DEPS_LIB := $(DEPS_PREFIX)/usr/lib/x86_64-linux-gnu
  # The multiarch folder too: libjpeg's jconfig.h lives there, and the host's own copy may belong
  # to another libjpeg version than the library linked.
  DEPS_INCLUDES := -isystem $(INCLUDE_ROOT) -isystem $(INCLUDE_ROOT)/x86_64-linux-gnu \
                   -isystem $(INCLUDE_ROOT)/x86_64-linux-gnu/openblas-pthread
  CXXFLAGS += $(DEPS_INCLUDES)
  NVCCFLAGS += $(DEPS_INCLUDES)
  LDLIBS := -L$(DEPS_LIB) -L$(DEPS_LIB)/openblas-pthread -Wl,-rpath,$(DEPS_LIB):$(DEPS_LIB)/openblas-pthread $(LDLIBS)
endif

LIB_DIRS := engine autograd $(wildcard ops/*) models data eval apps/common
LIB_CPP := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cpp))
LIB_CU := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cu))
LIB_OBJ := $(LIB_CPP:%.cpp=$(BUILD)/%.o) $(LIB_CU:%.cu=$(BUILD)/%.cu.o)
LIB := $(BUILD)/libsg.a

TEST_OBJ := $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard tests/*.cpp))
TEST_BIN := $(BUILD)/sg_tests
BENCH_OBJ := $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard bench/*.cpp))
BENCH_BIN := $(BUILD)/sg_bench
APPS := $(patsubst apps/%.cpp,$(BUILD)/%,$(wildcard apps/*.cpp))

DEPS_STAMP := $(BUILD)/.deps-installed

.PHONY: all test test-fixtures bench run clean deps ptx
.SECONDARY: $(patsubst apps/%.cpp,$(BUILD)/apps/%.o,$(wildcard apps/*.cpp))
all: $(LIB) $(TEST_BIN) $(BENCH_BIN) $(APPS)

# Debian packages the build needs; installed once when a header is missing.
DEB_PACKAGES := libfmt-dev doctest-dev libopenblas-dev nlohmann-json3-dev libpng-dev zlib1g-dev \
                libjpeg62-turbo-dev libzip-dev
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@mkdir -p $(BUILD)
	@if [ -z "$(DEPS_PREFIX)" ] && { [ ! -f /usr/include/fmt/format.h ] || [ ! -f /usr/include/doctest/doctest.h ] || \
	    [ ! -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ ! -f /usr/include/nlohmann/json.hpp ] || \
	    [ ! -f /usr/include/png.h ] || [ ! -f /usr/include/jpeglib.h ] || [ ! -f /usr/include/zip.h ]; }; then \
	  echo "installing build dependencies: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES); \
	fi
	@test -x $(NVCC) || { echo "nvcc not found at $(NVCC): set CUDA_HOME"; exit 1; }
	@touch $@

$(BUILD)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CXX) $(TEST_OBJ) $(LIB) $(LDLIBS) -o $@

$(BENCH_BIN): $(BENCH_OBJ) $(LIB)
	$(CXX) $(BENCH_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/%: $(BUILD)/apps/%.o $(LIB)
	$(CXX) $< $(LIB) $(LDLIBS) -o $@

test: $(TEST_BIN)
	$(TEST_BIN) --fixtures-dir=$(FIXTURES_DIR)

test-fixtures: $(TEST_BIN)
	$(TEST_BIN) --fixtures-only --fixtures-dir=$(FIXTURES_DIR)

bench: $(BENCH_BIN)
	$(BENCH_BIN)

# The embedded default: Fashion-MNIST (Debian's dataset-fashion-mnist) padded to 32x32, a domain
# classifier for its metrics (Inception does not fit 32x32 grayscale), then a short training run
# of a small network with ADA and fid50k_full_fmnist at each snapshot (under 10 minutes on 2 CPU
# cores; the metric uses 500 generated images there). LONG=1 trains the full `auto` network for
# longer with the official 50k-sample metric (for a GPU); RUN_FLAGS adds or overrides train options.
FMNIST_DIR ?= /usr/share/datasets/fashion-mnist
RUN_DATA ?= datasets/fmnist32.zip
RUN_DETECTOR ?= detectors/fmnist32.safetensors
ifeq ($(LONG),1)
  RUN_DEFAULTS := --cfg=auto --kimg=500 --tick=4 --snap=10 --grid=16x8
  DETECTOR_STEPS := 3000
else
  RUN_DEFAULTS := --tiny=1 --batch=16 --kimg=1 --tick=1 --snap=1 --grid=8x4 --metric-samples=500
  DETECTOR_STEPS := 300
endif
run: all
	@test -f $(FMNIST_DIR)/train-images-idx3-ubyte.gz || { echo "installing dataset-fashion-mnist"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; }
	@test -f $(RUN_DATA) || $(BUILD)/dataset_tool --source=$(FMNIST_DIR)/train-images-idx3-ubyte.gz \
	  --dest=$(RUN_DATA) --resolution=32 --transform=pad
	@test -f $(RUN_DETECTOR) || $(BUILD)/train_detector --data=$(RUN_DATA) --name=fmnist --steps=$(DETECTOR_STEPS) \
	  --out=$(RUN_DETECTOR)
	$(BUILD)/train --outdir=runs --data=$(RUN_DATA) --metrics=fid50k_full --detector=$(RUN_DETECTOR) \
	  $(RUN_DEFAULTS) $(RUN_FLAGS)

# PTX and SASS of one kernel file for study: make ptx KERNEL=ops/upfirdn2d/upfirdn2d.cu
ptx: | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/ptx
	$(NVCC) -O3 -std=c++20 -I. --expt-relaxed-constexpr -arch=sm_$(LAST_ARCH) -ptx $(KERNEL) -o $(BUILD)/ptx/$(notdir $(KERNEL)).ptx
	$(NVCC) -O3 -std=c++20 -I. --expt-relaxed-constexpr -arch=sm_$(LAST_ARCH) -cubin $(KERNEL) -o $(BUILD)/ptx/$(notdir $(KERNEL)).cubin
	$(CUDA_HOME)/bin/cuobjdump -sass $(BUILD)/ptx/$(notdir $(KERNEL)).cubin > $(BUILD)/ptx/$(notdir $(KERNEL)).sass
	@echo "wrote $(BUILD)/ptx/$(notdir $(KERNEL)).{ptx,sass}"

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(APPS:$(BUILD)/%=$(BUILD)/apps/%.d)
