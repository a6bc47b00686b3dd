# The CUDA backend (core/backend/cuda): enabled when nvcc is found (CWB_WITH_CUDA=AUTO), required
# with ON, skipped with OFF. Without it everything builds and runs on the CPU, and the device
# list says "this build has no CUDA backend". A build with it still runs where no GPU or driver
# is present: the runtime is linked statically and the driver is looked up when the program
# asks for devices.
set(CWB_CUDA_ENABLED OFF)
if(NOT CWB_WITH_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "CWB_WITH_CUDA is '${CWB_WITH_CUDA}'; use AUTO, ON or OFF")
endif()
if(NOT CWB_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    # nvcc is often installed outside PATH.
    find_program(CWB_NVCC nvcc HINTS ENV CUDA_PATH PATH_SUFFIXES bin
                 PATHS /usr/local/cuda/bin /opt/cuda/bin)
    if(CWB_NVCC)
      set(CMAKE_CUDA_COMPILER ${CWB_NVCC})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Hopper (H100/H200) at least; override with -DCMAKE_CUDA_ARCHITECTURES="80;90".
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    # The core's headers are C++20; CMake 3.25 does not know nvcc's flag for it.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    add_compile_options("$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>")
    set(CWB_CUDA_ENABLED ON)
    message(STATUS "CUDA backend: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
                   "architectures ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(CWB_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CWB_WITH_CUDA=ON but no CUDA compiler (nvcc) was found; set "
                        "CMAKE_CUDA_COMPILER or use CWB_WITH_CUDA=AUTO")
  else()
    message(STATUS "CUDA backend: off (no nvcc found)")
  endif()
endif()
