# sweep.gp -- figures of a parameter sweep against its first swept parameter.
# Called by `shardsim run` as: gnuplot -e "dir='DIR'; name='SCENARIO'; param='N'" sweep.gp
# Reads DIR/runs.csv (header: run,repeat,<params...>,seed,...; see sim/report.c). Every
# run is one point, so repeats show their spread; x is the parameter's value as a label.
set datafile separator ','
set key top left
set grid

do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }
    set output sprintf("%s/sweep.%s", dir, fmt)
    set title sprintf("%s: p99 latency and load balance vs %s", name, param) noenhanced
    set xlabel param noenhanced
    set ylabel "p99 latency (ms)"
    set y2label "records max/mean"
    set ytics nomirror
    set y2tics
    set xtics rotate by -30
    plot sprintf("%s/runs.csv", dir) using 0:"p99_ms":xtic(stringcolumn(param)) with linespoints pt 7 lw 2 title "p99 latency", \
         "" using 0:"records_max_mean" axes x1y2 with linespoints pt 5 lw 2 title "records max/mean"
}
