// Fills faiss 1.7.3's C API gap (see faiss_binary_factory.h), reporting errors the way the
// C API does, so callers use faiss_get_last_error() for this function like for any other.
#include "faiss_binary_factory.h"

#include <faiss/IndexBinary.h>
#include <faiss/c_api/error_impl.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>

#include <stdexcept>

extern "C" int faiss_index_binary_factory(FaissIndexBinary **p_index, int d, const char *description)
{
	try {
		if (!p_index || !description)
			throw std::invalid_argument("faiss_index_binary_factory: NULL argument");
		faiss::IndexBinary *index = faiss::index_binary_factory(d, description);
		*p_index = reinterpret_cast<FaissIndexBinary *>(index);
		return 0;
	} catch (faiss::FaissException &e) {
		faiss_last_exception = std::make_exception_ptr(e);
		return -2;
	} catch (std::exception &e) {
		faiss_last_exception = std::make_exception_ptr(e);
		return -4;
	} catch (...) {
		faiss_last_exception = std::make_exception_ptr(std::runtime_error("Unknown error"));
		return -1;
	}
}
