// Fills faiss 1.7.3's C API gaps (see faiss_c_gaps.h), reporting errors the way the C API does,
// so callers use faiss_get_last_error() for these functions like for any other.
#include "index/search/faiss_c_gaps.h"

#include <faiss/IndexBinary.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexIVF.h>
#include <faiss/c_api/error_impl.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/OnDiskInvertedLists.h>

#include <stdexcept>
#include <string>

template <class Body> static int c_api_call(Body body)
{
	try {
		body();
		return 0;
	} catch (faiss::FaissException &) {
		/* current_exception, not make_exception_ptr(e): that would copy a std::exception
		 * slice and lose the message. */
		faiss_last_exception = std::current_exception();
		return -2;
	} catch (std::exception &) {
		faiss_last_exception = std::current_exception();
		return -4;
	} catch (...) {
		faiss_last_exception = std::make_exception_ptr(std::runtime_error("Unknown error"));
		return -1;
	}
}

extern "C" int faiss_index_binary_factory(FaissIndexBinary **p_index, int d, const char *description)
{
	return c_api_call([&] {
		if (!p_index || !description)
			throw std::invalid_argument("faiss_index_binary_factory: NULL argument");
		faiss::IndexBinary *index = faiss::index_binary_factory(d, description);
		*p_index = reinterpret_cast<FaissIndexBinary *>(index);
	});
}

extern "C" int lk__faiss_binary_set_search_effort(FaissIndexBinary *index, int effort)
{
	return c_api_call([&] {
		auto *base = reinterpret_cast<faiss::IndexBinary *>(index);
		auto check = [&](int most) {
			if (effort < 0 || effort > most)
				throw std::invalid_argument("search effort outside 0.." + std::to_string(most));
		};
		if (auto *multi = dynamic_cast<faiss::IndexBinaryMultiHash *>(base)) {
			check(multi->b);
			multi->nflip = effort;
		} else if (auto *single = dynamic_cast<faiss::IndexBinaryHash *>(base)) {
			check(single->b);
			single->nflip = effort;
		} else if (auto *ivf = dynamic_cast<faiss::IndexBinaryIVF *>(base)) {
			check((int)ivf->nlist);
			ivf->nprobe = (size_t)effort;
		} else {
			throw std::invalid_argument("no search effort to set on this kind of binary index");
		}
	});
}

extern "C" int lk__faiss_read_index_mmap(FaissIndex **p_index, FILE *f)
{
	return c_api_call([&] {
		if (!p_index || !f)
			throw std::invalid_argument("lk__faiss_read_index_mmap: NULL argument");
		faiss::Index *index = faiss::read_index(f, faiss::IO_FLAG_MMAP);
		/* Mapped lists would otherwise be "prefetched" by up to 32 threads started for every
		 * search; page faults bring them in as well, without a thread per query. */
		if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(index))
			if (auto *mapped = dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists))
				mapped->prefetch_nthread = 0;
		*p_index = reinterpret_cast<FaissIndex *>(index);
	});
}
