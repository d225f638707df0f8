/* Handing a request's jobs to the worker pool: all admitted at once or the request refused
 * (429, or 503 while stopping), the connection suspended until the last job resumes it. Used
 * by the handlers, below the router that calls them. */
#include "tools/serve/serve.h"

#include <stdlib.h>

void lk_serve_submit_one(struct lk_serve_request *req, void (*run)(struct lk_serve_job *job),
			 int (*finish)(struct lk_serve_request *req))
{
	struct lk_serve_job *job = calloc(1, sizeof *job);
	if (!job) {
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
		return;
	}
	job->req = req;
	job->run = run;
	req->jobs = job;
	req->n_jobs = 1;
	req->finish = finish;
	lk_serve_submit(req);
}

void lk_serve_submit(struct lk_serve_request *req)
{
	/* One extra count held here, so that no job can resume the connection before it has
	 * been suspended. */
	atomic_store(&req->jobs_left, (unsigned)req->n_jobs + 1);
	if (lk_serve_pool_submit(req->server->pool, req->jobs, req->n_jobs) != 0) {
		if (atomic_load(&req->server->stopping)) {
			lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server is stopping");
			return;
		}
		lk_serve_metrics_reject(LK_REJECT_OVERLOADED);
		lk_serve_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "overloaded",
				     "every worker is busy and the queue is full; try again shortly");
		return;
	}
	req->suspended = 1;
	MHD_suspend_connection(req->conn);
	if (atomic_fetch_sub(&req->jobs_left, 1) == 1)
		MHD_resume_connection(req->conn);
}
