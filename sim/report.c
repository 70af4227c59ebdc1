/* report.c -- CSV files and summary lines of simulation runs; see report.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sim/csv.h"
#include "sim/report.h"

static double ns_to_s(uint64_t ns) {
    return (double)ns / 1e9;
}
static double ns_to_ms(uint64_t ns) {
    return (double)ns / 1e6;
}

/* Seconds since the fault, or -1 when the phase never happened. */
static double phase_s(uint64_t at_ns) {
    return at_ns ? ns_to_s(at_ns) : -1.0;
}

uint64_t report_downtime_ns(const sim_failover *f) {
    uint64_t end = f->restored_ns;
    return end > f->fault_ns ? end - f->fault_ns : 0;
}

static FILE *open_in(const char *dir, const char *name) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return NULL;
    return fopen(path, "w");
}

static int close_checked(FILE *f) {
    int bad = ferror(f);
    return (fclose(f) != 0 || bad) ? SS_EIO : 0;
}

static int write_timeseries(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "timeseries.csv");
    if (!f)
        return SS_EIO;
    fputs("t_s,records_in,records_done,backlog,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,down,"
          "rolled_back\n",
          f);
    for (size_t i = 0; i < r->window_count; i++) {
        const sim_window *w = &r->windows[i];
        fprintf(
            f, "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%.6f,%.6f,%.6f,%.6f,%u,%" PRIu64 "\n",
            ns_to_s(w->start_ns), w->records_in, w->records_done, w->backlog, ns_to_ms(w->p50_ns),
            ns_to_ms(w->p90_ns), ns_to_ms(w->p99_ns), ns_to_ms(w->p999_ns), ns_to_ms(w->max_ns),
            (unsigned)w->down, w->rolled_back);
    }
    return close_checked(f);
}

static int write_subtasks(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "subtasks.csv");
    if (!f)
        return SS_EIO;
    fputs("subtask,worker,keys,records,state_bytes\n", f);
    for (uint32_t i = 0; i < r->subtask_count; i++) {
        const sim_subtask_load *s = &r->subtasks[i];
        fprintf(f, "%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", i, s->worker, s->keys, s->records,
                s->state_bytes);
    }
    return close_checked(f);
}

/* A histogram's non-empty buckets as CSV rows, each led by `label` ("" = none). */
static void write_buckets(FILE *f, const char *label, const hist *h) {
    size_t index = 0;
    uint64_t lo, hi, count, seen = 0;
    while (hist_next_bucket(h, &index, &lo, &hi, &count)) {
        seen += count;
        fprintf(f, "%s%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f\n", label, lo, hi, count,
                (double)seen / (double)h->count);
    }
}

static int write_latency(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "latency.csv");
    if (!f)
        return SS_EIO;
    fputs("lo_ns,hi_ns,count,cumulative_fraction\n", f);
    write_buckets(f, "", &r->latency);
    return close_checked(f);
}

/* Coordination latency histograms, one block of buckets per operation type. */
static int write_coordination_latency(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "coordination_latency.csv");
    if (!f)
        return SS_EIO;
    fputs("op,lo_ns,hi_ns,count,cumulative_fraction\n", f);
    for (int i = 0; i < SIM_COORD_TYPES; i++) {
        char label[24];
        snprintf(label, sizeof label, "%s,", r->coord[i].op);
        if (r->coord[i].op[0])
            write_buckets(f, label, &r->coord[i].h);
    }
    return close_checked(f);
}

static int write_failovers(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "failovers.csv");
    if (!f)
        return SS_EIO;
    fputs("kind,target,fault_s,detected_s,restarted_s,restored_s,caught_up_s,detection_s,"
          "downtime_s,bytes_restored,records_replayed,checkpoint_id,elected_s,election_s,"
          "keys_moved,groups_moved\n",
          f);
    for (size_t i = 0; i < r->failover_count; i++) {
        const sim_failover *x = &r->failovers[i];
        double detection = x->detected_ns ? ns_to_s(x->detected_ns - x->fault_ns) : -1.0;
        double election =
            x->elected_ns && x->detected_ns ? ns_to_s(x->elected_ns - x->detected_ns) : -1.0;
        fprintf(f,
                "%s,%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%.6f,%.6f,%" PRIu64 ",%u\n",
                x->kind, x->target, ns_to_s(x->fault_ns), phase_s(x->detected_ns),
                phase_s(x->restarted_ns), phase_s(x->restored_ns), phase_s(x->caught_up_ns),
                detection, ns_to_s(report_downtime_ns(x)), x->bytes_restored, x->records_replayed,
                x->checkpoint_id, phase_s(x->elected_ns), election, x->keys_moved, x->groups_moved);
    }
    return close_checked(f);
}

static int write_coordination(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "coordination.csv");
    if (!f)
        return SS_EIO;
    fputs("op,count,p50_ms,p99_ms,max_ms\n", f);
    for (int i = 0; i < SIM_COORD_TYPES; i++) {
        const sim_coord_stat *c = &r->coord[i];
        if (c->op[0])
            fprintf(f, "%s,%" PRIu64 ",%.6f,%.6f,%.6f\n", c->op, c->count, ns_to_ms(c->p50_ns),
                    ns_to_ms(c->p99_ns), ns_to_ms(c->max_ns));
    }
    return close_checked(f);
}

/* The run's fault schedule, ready for `--set faults=...` (faults.txt), and as a table
 * for the plots (faults.csv: t_s, kind, target, duration_s; duration empty for a fault
 * without one), read back from the schedule's own syntax. */
static int write_fault_schedule(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "faults.txt");
    if (!f)
        return SS_EIO;
    fprintf(f, "%s\n", r->fault_schedule);
    if (close_checked(f) != 0)
        return SS_EIO;
    f = open_in(dir, "faults.csv");
    if (!f)
        return SS_EIO;
    fputs("t_s,kind,target,duration_s\n", f);
    for (const char *p = r->fault_schedule; *p;) {
        size_t len = strcspn(p, ";");
        char item[128], kind[32];
        double at = 0, duration = -1;
        unsigned target = 0;
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        if (sscanf(item, "%lf %31s %u %lf", &at, kind, &target, &duration) >= 3) {
            fprintf(f, "%.3f,%s,%u,", at, kind, target);
            if (duration >= 0)
                fprintf(f, "%.3f", duration);
            fputc('\n', f);
        }
        p += len + (p[len] == ';');
    }
    return close_checked(f);
}

/* history = 1: the run's coordination history, JSON Lines (backends/history.h). */
static int write_history(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "coordination.jsonl");
    if (!f)
        return SS_EIO;
    fputs(r->coord_history, f);
    return close_checked(f);
}

/* Leaderships (leaders.csv: jm, epoch, from_s, to_s, to_end; a leadership still held at
 * the end has to_s = the run's end and to_end = 1) and commit answers (commits.csv: t_s,
 * jm, epoch, checkpoint_id, outcome, retry). */
static int write_leaders(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "leaders.csv");
    if (!f)
        return SS_EIO;
    fputs("jm,epoch,from_s,to_s,to_end\n", f);
    for (size_t i = 0; i < r->leadership_count; i++) {
        const sim_leadership *l = &r->leaderships[i];
        uint64_t to = l->to_ns ? l->to_ns : r->end_ns;
        fprintf(f, "%u,%lld,%.6f,%.6f,%d\n", l->jm, (long long)l->epoch, ns_to_s(l->from_ns),
                ns_to_s(to), l->to_ns == 0);
    }
    return close_checked(f);
}

static int write_commits(const char *dir, const sim_result *r) {
    static const char *const outcomes[] = {"committed", "stale", "refused", "failed"};
    FILE *f = open_in(dir, "commits.csv");
    if (!f)
        return SS_EIO;
    fputs("t_s,jm,epoch,checkpoint_id,outcome,retry\n", f);
    for (size_t i = 0; i < r->commit_log_count; i++) {
        const sim_commit *c = &r->commits_log[i];
        const char *outcome = c->outcome < 4 ? outcomes[c->outcome] : "?";
        fprintf(f, "%.6f,%u,%lld,%u,%s,%u\n", ns_to_s(c->at_ns), c->jm, (long long)c->epoch,
                c->checkpoint_id, outcome, (unsigned)c->retry);
    }
    return close_checked(f);
}

/* The state each rescale moved, per subtask (rescales.csv), with the rescale's row of
 * failovers.csv (from 0), its parallelism before and after, when it stopped the job and
 * how long the job was paused (-1: it never resumed). */
static int write_rescales(const char *dir, const sim_result *r) {
    FILE *f = open_in(dir, "rescales.csv");
    if (!f)
        return SS_EIO;
    fputs("failover,from,to,at_s,paused_s,subtask,keys_out,keys_in,bytes_out,bytes_in\n", f);
    for (size_t i = 0; i < r->move_count; i++) {
        const sim_rescale_move *m = &r->moves[i];
        const sim_failover *x = &r->failovers[m->failover];
        double paused = x->restored_ns ? ns_to_s(report_downtime_ns(x)) : -1.0;
        fprintf(f, "%u,%u,%u,%.6f,%.6f,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                m->failover, m->from_parallelism, m->to_parallelism, ns_to_s(x->fault_ns), paused,
                m->subtask, m->keys_out, m->keys_in, m->bytes_out, m->bytes_in);
    }
    return close_checked(f);
}

int report_write_run(const char *dir, const sim_result *r) {
    int rc = write_timeseries(dir, r);
    if (rc == 0 && r->coord_history)
        rc = write_history(dir, r);
    if (rc == 0 && r->fault_schedule)
        rc = write_fault_schedule(dir, r);
    if (rc == 0)
        rc = write_coordination(dir, r);
    if (rc == 0 && r->coord[0].op[0])
        rc = write_coordination_latency(dir, r);
    if (rc == 0 && r->coord[0].op[0])
        rc = write_leaders(dir, r);
    if (rc == 0 && r->coord[0].op[0])
        rc = write_commits(dir, r);
    if (rc == 0 && r->move_count)
        rc = write_rescales(dir, r);
    if (rc == 0)
        rc = write_subtasks(dir, r);
    if (rc == 0)
        rc = write_latency(dir, r);
    if (rc == 0)
        rc = write_failovers(dir, r);
    return rc;
}

void report_runs_header(FILE *out, char *const *param_names, size_t param_count) {
    fputs("run,repeat", out);
    for (size_t i = 0; i < param_count; i++) {
        fputc(',', out);
        csv_field(out, param_names[i]);
    }
    fputs(",seed,trace_digest,source_digest,events,records,records_processed,throughput_rps,"
          "offered_rps,"
          "p50_ms,p90_ms,p99_ms,p999_ms,max_ms,keys_max_mean,records_max_mean,bytes_max_mean,"
          "records_cov,records_jain,checkpoints,failures,downtime_s,records_replayed,"
          "coord_ops,elections,sessions_expired,commits,stale_commits,pointers_skipped,"
          "status,reason,exactly_once\n",
          out);
}

static uint64_t total_downtime_ns(const sim_result *r) {
    uint64_t sum = 0;
    for (size_t i = 0; i < r->failover_count; i++)
        sum += report_downtime_ns(&r->failovers[i]);
    return sum;
}

/* A rescale row of failovers.csv is a planned stop, not a failure. */
static int is_rescale(const sim_failover *f) {
    return strcmp(f->kind, "rescale") == 0;
}

size_t report_failures(const sim_result *r) {
    size_t count = 0;
    for (size_t i = 0; i < r->failover_count; i++)
        count += !is_rescale(&r->failovers[i]);
    return count;
}

static size_t rescales(const sim_result *r) {
    return r->failover_count - report_failures(r);
}

/* The summary figures of runs.csv, from seed to pointers_skipped. */
static void runs_figures(FILE *out, const sim_result *r) {
    const hist *h = &r->latency;
    fprintf(out,
            ",%016" PRIx64 ",%016" PRIx64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
            ",%.1f,%.1f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%u,%zu,%.6f,%" PRIu64
            ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
            r->trace_digest, r->source_digest, r->events, r->records_emitted, r->records_processed,
            r->throughput_rps, r->offered_rps, ns_to_ms(hist_quantile(h, 0.50)),
            ns_to_ms(hist_quantile(h, 0.90)), ns_to_ms(hist_quantile(h, 0.99)),
            ns_to_ms(hist_quantile(h, 0.999)), ns_to_ms(hist_quantile(h, 1.0)),
            r->keys_balance.max_over_mean, r->records_balance.max_over_mean,
            r->bytes_balance.max_over_mean, r->records_balance.cov, r->records_balance.jain,
            r->checkpoints_completed, report_failures(r), ns_to_s(total_downtime_ns(r)),
            r->records_replayed, r->coord_ops, r->elections, r->sessions_expired, r->commits,
            r->stale_commits, r->pointers_skipped);
}

void report_runs_row(FILE *out, uint32_t run, uint32_t repeat, char *const *param_values,
                     size_t param_count, uint64_t seed, const sim_result *r, const char *reason) {
    fprintf(out, "%u,%u", run, repeat);
    for (size_t i = 0; i < param_count; i++) {
        fputc(',', out);
        csv_field(out, param_values[i]);
    }
    fprintf(out, ",%" PRIu64, seed);
    if (r)
        runs_figures(out, r);
    else
        fputs(",,,,,,,,,,,,,,,,,,,,,,,,,,", out); /* 26 figures the run never produced */
    fprintf(out, ",%s,", reason ? "failed" : "ok");
    csv_field(out, reason);
    const char *checked =
        r && r->exactly_once_detail[0] ? r->exactly_once_ok ? "ok" : "FAILED" : "";
    fprintf(out, ",%s\n", checked);
}

void report_summary_line(FILE *out, uint32_t run, char *const *param_names,
                         char *const *param_values, size_t param_count, const sim_result *r) {
    fprintf(out, "run %u", run);
    for (size_t i = 0; i < param_count; i++)
        fprintf(out, " %s=%s", param_names[i], param_values[i]);
    fprintf(out, ": %" PRIu64 " records, p50 %.3f ms, p99 %.3f ms, max/mean records %.3f",
            r->records_emitted, ns_to_ms(hist_quantile(&r->latency, 0.5)),
            ns_to_ms(hist_quantile(&r->latency, 0.99)), r->records_balance.max_over_mean);
    if (report_failures(r))
        fprintf(out, ", %zu failover(s)", report_failures(r));
    if (rescales(r))
        fprintf(out, ", %zu rescale(s)", rescales(r));
    if (r->failover_count)
        fprintf(out, ", downtime %.2f s, replayed %" PRIu64, ns_to_s(total_downtime_ns(r)),
                r->records_replayed);
    fprintf(out, ", exactly-once %s, digest %016" PRIx64 "\n", r->exactly_once_ok ? "ok" : "FAILED",
            r->trace_digest);
}
