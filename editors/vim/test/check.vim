" Headless test of the Vim support for res: syntax groups, indentation, filetype detection.
"
"   vim -Es -N -u NONE -i NONE -S editors/vim/test/check.vim
"
" Prints one line per failure and a summary; exits 1 (cquit) when anything failed.

let s:test_dir = expand('<sfile>:p:h')
let s:plugin_dir = fnamemodify(s:test_dir, ':h')
let s:failures = []
let s:passed = 0

function! s:Say(text) abort
  call writefile([a:text], '/dev/stdout', 'a')
endfunction

function! s:Fail(text) abort
  call add(s:failures, a:text)
  call s:Say('FAIL ' . a:text)
endfunction

" The syntax group at the start of the next match of pattern (searched from the previous match
" on, so that checks follow the sample file from top to bottom), compared with group.
function! s:At(pattern, group) abort
  let [lnum, col] = searchpos(a:pattern, 'W')
  if lnum == 0
    call s:Fail(printf('pattern %s not found after line %d of sample.res', string(a:pattern), line('.')))
    return
  endif
  let name = synIDattr(synID(lnum, col, 1), 'name')
  if name ==# a:group
    let s:passed += 1
  else
    call s:Fail(printf('sample.res:%d:%d %s: expected %s, got %s',
          \ lnum, col, string(a:pattern), a:group, name ==# '' ? '(none)' : name))
  endif
endfunction

" whole word
function! s:W(word, group) abort
  call s:At('\C\V\<' . escape(a:word, '\') . '\>', a:group)
endfunction

" literal text
function! s:T(text, group) abort
  call s:At('\C\V' . escape(a:text, '\'), a:group)
endfunction

" ------------------------------------------------------------------------------------------------
" runtime: this plugin in front, then Vim's own files (filetype.vim claims *.res for ReScript)
let &runtimepath = s:plugin_dir . ',' . &runtimepath
filetype plugin indent on
syntax on

" ------------------------------------------------------------------------------------------------
" filetype detection wins over Vim's ReScript detection
execute 'edit ' . fnameescape(s:test_dir . '/sample.res')
if &filetype ==# 'res'
  let s:passed += 1
else
  call s:Fail('filetype of sample.res after "filetype on": expected res, got ' . &filetype)
endif
let s:new = tempname() . '.res'
execute 'edit ' . fnameescape(s:new)
if &filetype ==# 'res'
  let s:passed += 1
else
  call s:Fail('filetype of a new .res buffer: expected res, got ' . &filetype)
endif
if &commentstring ==# '// %s'
  let s:passed += 1
else
  call s:Fail('commentstring: expected "// %s", got ' . string(&commentstring))
endif
bwipeout!

" ------------------------------------------------------------------------------------------------
" syntax groups, in the order of sample.res
execute 'edit ' . fnameescape(s:test_dir . '/sample.res')
call cursor(1, 1)

" comments
call s:T('// comments', 'resLineComment')
call s:W('TODO', 'resTodo')
call s:T('/* a block', 'resBlockComment')
call s:W('system', 'resBlockComment')
call s:W('250ms', 'resBlockComment')
call s:W('spanning', 'resBlockComment')
call s:W('fault', 'resBlockComment')
call s:W('fault', 'resDeclaration')

" import, param, data
call s:W('import', 'resDeclaration')
call s:T('"std/faults"', 'resString')
call s:W('as', 'resStatement')
call s:W('param', 'resDeclaration')
call s:W('peak_margin', 'resDeclName')
call s:T('=', 'resOperator')
call s:W('1.3x', 'resMultiplier')
call s:W('data', 'resDeclaration')
call s:W('items', 'resDeclName')
call s:W('from', 'resTimeRelation')
call s:W('format', 'resStatement')
call s:W('order', 'resStatement')

" system, service
call s:W('system', 'resDeclaration')
call s:W('shop', 'resDeclName')
call s:W('base', 'resStatement')
call s:W('env', 'resBuiltin')
call s:W('SHOP_URL', 'resString')
call s:W('header', 'resStatement')
call s:W('secret', 'resBuiltin')
call s:W('timeout', 'resFaultKind')
call s:W('5s', 'resDuration')
call s:W('protocol', 'resStatement')
call s:W('service', 'resDeclaration')
call s:W('catalog', 'resDeclName')
call s:W('route', 'resStatement')
call s:W('GET', 'resMethod')
call s:T('/items/', 'resString')
call s:T('{items.id}', 'resInterpolation')
call s:T('{ feeder.q }', 'resInterpolation')
call s:T('{not interpolated', 'resString')
call s:W('expect', 'resStatement')
call s:W('status', 'resStatement')
call s:W('2xx', 'resStatus')
call s:W('404', 'resNumber')
call s:W('weight', 'resStatement')
call s:W('POST', 'resMethod')
call s:W('body', 'resStatement')
call s:W('json', 'resStatement')
call s:T('"item"', 'resString')
call s:T('{items.id}', 'resInterpolation')
call s:W('true', 'resBoolean')
call s:W('null', 'resNull')
call s:W('PUT', 'resMethod')
call s:T('\"', 'resEscape')
call s:T('\\', 'resEscape')
call s:W('size', 'resStatement')
call s:W('4KiB', 'resSize')
call s:W('DELETE', 'resMethod')
call s:W('PATCH', 'resMethod')
call s:W('HEAD', 'resMethod')
call s:W('OPTIONS', 'resMethod')
call s:W('depends', 'resStatement')
call s:W('on', 'resStatement')
call s:W('upstream', 'resStatement')
call s:W('capacity', 'resStatement')
call s:W('process', 'resStatement')
call s:W('pidfile', 'resStatement')
call s:W('name', 'resStatement')
call s:W('command', 'resStatement')
call s:W('balance', 'resStatement')
call s:W('haproxy', 'resStatement')
call s:W('backend', 'resStatement')
call s:W('proxy', 'resStatement')

" traffic
call s:W('traffic', 'resDeclaration')
call s:W('peak_test', 'resDeclName')
call s:W('learn', 'resStatement')
call s:W('forecast', 'resStatement')
call s:W('peak', 'resStatement')
call s:W('over', 'resTimeRelation')
call s:W('7d', 'resDuration')
call s:W('quantile', 'resStatement')
call s:W('0.95', 'resNumber')
call s:W('method', 'resStatement')
call s:W('like', 'resStatement')
call s:W('against', 'resStatement')
call s:W('arrival', 'resStatement')
call s:W('rate', 'resStatement')
call s:W('peak', 'resBuiltin')
call s:T('*', 'resOperator')
call s:W('30000/m', 'resRate')
call s:W('100/h', 'resRate')
call s:W('ramp', 'resStatement')
call s:W('0/s', 'resRate')
call s:T('->', 'resOperator')
call s:W('1h30m', 'resDuration')
call s:W('hold', 'resStatement')
call s:W('at', 'resTimeRelation')
call s:W('2000/d', 'resRate')
call s:W('mix', 'resStatement')
call s:W('catalog', 'resMember')
call s:T('70%', 'resPercent')
call s:W('session', 'resDeclaration')
call s:W('buyer', 'resDeclName')
call s:W('visit', 'resStatement')
call s:W('think', 'resStatement')
call s:W('1s', 'resDuration')
call s:T('..', 'resOperator')
call s:W('3s', 'resDuration')
call s:W('repeat', 'resStatement')
call s:W('users', 'resStatement')
call s:W('250ms', 'resDuration')
call s:W('scale', 'resAction')
call s:W('2x', 'resMultiplier')
call s:W('spike', 'resDeclName')
call s:W('burst', 'resFunction')

" fault
call s:W('slow_payments', 'resDeclName')
call s:W('stressed', 'resStatement')
call s:W('top', 'resStatement')
call s:W('by', 'resStatement')
call s:W('latency', 'resFaultKind')
call s:W('jitter', 'resStatement')
call s:W('per', 'resStatement')
call s:W('chunk', 'resStatement')
call s:W('errors', 'resFaultKind')
call s:W('reset', 'resFaultKind')
call s:W('blackhole', 'resFaultKind')
call s:T('2.5%', 'resPercent')
call s:W('bandwidth', 'resFaultKind')
call s:T('1MiB/s', 'resBandwidth')
call s:W('slow_close', 'resFaultKind')
call s:W('slice', 'resFaultKind')
call s:W('64B', 'resSize')
call s:W('delay', 'resStatement')
call s:W('kill', 'resFaultKind')
call s:W('signal', 'resStatement')
call s:W('pause', 'resFaultKind')
call s:W('for', 'resTimeRelation')
call s:W('restart', 'resFaultKind')
call s:W('with', 'resTimeRelation')
call s:W('cpu', 'resFaultKind')
call s:W('cores', 'resStatement')
call s:W('memory', 'resFaultKind')
call s:W('512MiB', 'resSize')
call s:W('disk', 'resFaultKind')
call s:W('fds', 'resFaultKind')
call s:W('loss', 'resFaultKind')
call s:W('toxicity', 'resFaultKind')
call s:W('match', 'resStatement')
call s:W('and', 'resLogical')
call s:W('path', 'resStatement')
call s:W('via', 'resStatement')
call s:W('toxiproxy', 'resStatement')
call s:T('"http://127.0.0.1:8474"', 'resString')
call s:W('proxy', 'resStatement')
call s:W('slow_dependency', 'resFunction')

" window, event
call s:W('window', 'resDeclaration')
call s:W('nightly', 'resDeclName')
call s:W('every', 'resTimeRelation')
call s:W('02:00', 'resTimeOfDay')
call s:W('04:00', 'resTimeOfDay')
call s:W('UTC', 'resTimeZone')
call s:W('08:30:00', 'resTimeOfDay')
call s:T('+01:00', 'resTimeZone')
call s:W('2026-12-24', 'resTimestamp')
call s:W('to', 'resTimeRelation')
call s:T('2026-12-26T08:30:00+01:00', 'resTimestamp')
call s:W('event', 'resDeclaration')
call s:W('black_friday', 'resDeclName')
call s:T('2026-11-27T00:00Z', 'resTimestamp')
call s:W('lasts', 'resTimeRelation')
call s:W('1d', 'resDuration')
call s:W('4x', 'resMultiplier')

" slo, abort
call s:W('slo', 'resDeclaration')
call s:W('shop_ok', 'resDeclName')
call s:W('p99', 'resBuiltin')
call s:T('<=', 'resOperator')
call s:W('not', 'resLogical')
call s:W('error_rate', 'resBuiltin')
call s:W('or', 'resLogical')
call s:W('throughput', 'resBuiltin')
call s:T('!=', 'resOperator')
call s:W('10/s', 'resRate')
call s:W('availability', 'resBuiltin')
call s:W('saturation', 'resBuiltin')
call s:W('recovery', 'resBuiltin')
call s:T('==', 'resOperator')
call s:W('p50', 'resBuiltin')
call s:W('p90', 'resBuiltin')
call s:W('p95', 'resBuiltin')
call s:W('p999', 'resBuiltin')
call s:W('max_latency', 'resBuiltin')
call s:W('abort', 'resDeclaration')
call s:W('when', 'resStatement')

" remedy
call s:W('remedy', 'resDeclaration')
call s:W('scale_checkout', 'resDeclName')
call s:W('predicted', 'resStatement')
call s:W('do', 'resAction')
call s:W('shift', 'resAction')
call s:W('failover', 'resAction')
call s:W('exec', 'resAction')
call s:W('webhook', 'resAction')
call s:W('cooldown', 'resStatement')
call s:W('most', 'resStatement')
call s:W('mode', 'resStatement')
call s:W('verify', 'resStatement')
call s:W('within', 'resStatement')
call s:W('require', 'resStatement')
call s:W('approval', 'resStatement')
call s:W('step', 'resDeclaration')
call s:W('at', 'resTimeRelation')

" scenario
call s:W('scenario', 'resDeclaration')
call s:W('nightly_peak', 'resDeclName')
call s:W('in', 'resTimeRelation')
call s:W('before', 'resTimeRelation')
call s:W('step', 'resDeclaration')
call s:W('warmup', 'resDeclName')
call s:W('load', 'resAction')
call s:W('inject', 'resAction')
call s:W('after', 'resTimeRelation')
call s:W('start', 'resTimeRelation')
call s:T('+', 'resOperator')
call s:W('wait', 'resAction')
call s:W('end', 'resTimeRelation')
call s:W('during', 'resTimeRelation')
call s:W('record', 'resStatement')
call s:W('profile', 'resStatement')
call s:W('predict', 'resStatement')
call s:W('then', 'resStatement')
call s:W('remediate', 'resStatement')

" template
call s:W('template', 'resDeclaration')
call s:W('slow', 'resDeclName')
call s:W('100ms', 'resDuration')
call s:W('on', 'resStatement')
call s:W('on', 'resParamEcho')
call s:W('latency', 'resFaultKind')
call s:W('latency', 'resParamEcho')
call s:W('jitter', 'resStatement')
call s:W('jitter', 'resParamEcho')

" edge cases
call s:At('\C(shop\.\zstimeout\>', 'resMember')
call s:W('250sec', 'resInvalidLiteral')
call s:W('1.5e3', 'resNumber')
call s:W('2TB', 'resSize')
call s:W('3GB', 'resSize')
call s:W('10kB', 'resSize')
call s:W('100us', 'resDuration')
call s:W('1w', 'resDuration')
call s:W('p99x', '')
call s:T('"no closing quote', 'resString')
call s:W('after_string', 'resDeclName')

" every grammar keyword must have been highlighted as one somewhere above: guard against a
" generated list that Vim fails to load
let s:keyword_groups = ['resDeclaration', 'resStatement', 'resFaultKind', 'resAction',
      \ 'resTimeRelation', 'resLogical']
for s:group in s:keyword_groups
  if !hlexists(s:group)
    call s:Fail('highlight group ' . s:group . ' does not exist')
  endif
endfor
bwipeout!

" ------------------------------------------------------------------------------------------------
" indentation: re-indent a file whose indentation is right, and compare
for s:name in ['indent.res']
  let s:expected = readfile(s:test_dir . '/' . s:name)
  execute 'edit ' . fnameescape(s:test_dir . '/' . s:name)
  " flatten every line, then let the indent script rebuild it
  silent %s/^\s\+//e
  silent normal! gg=G
  let s:got = getline(1, '$')
  let s:bad = 0
  for s:i in range(len(s:expected))
    if get(s:got, s:i, '<missing>') !=# s:expected[s:i]
      call s:Fail(printf('%s:%d indent: expected %s, got %s', s:name, s:i + 1,
            \ string(s:expected[s:i]), string(get(s:got, s:i, '<missing>'))))
      let s:bad = 1
    endif
  endfor
  if !s:bad
    let s:passed += 1
  endif
  bwipeout!
endfor

" the same with syntax highlighting off (indentation must not depend on it)
syntax off
let s:expected = readfile(s:test_dir . '/indent.res')
execute 'edit ' . fnameescape(s:test_dir . '/indent.res')
silent %s/^\s\+//e
silent normal! gg=G
if getline(1, '$') ==# s:expected
  let s:passed += 1
else
  call s:Fail('indent.res re-indented without syntax differs from the expected file')
endif
bwipeout!

" ------------------------------------------------------------------------------------------------
" the repository's own .res files load, highlight without errors, and start with a comment or
" a declaration keyword wherever a line starts at column 1 with a letter
syntax on
let s:repo = fnamemodify(s:plugin_dir, ':h:h')
for s:file in glob(s:repo . '/scenarios/*.res', 0, 1) + glob(s:repo . '/stdlib/*.res', 0, 1)
  let v:errmsg = ''
  execute 'silent edit ' . fnameescape(s:file)
  let s:rel = fnamemodify(s:file, ':t')
  let s:bad = []
  if &filetype !=# 'res'
    call add(s:bad, 'filetype ' . &filetype)
  endif
  for s:lnum in range(1, line('$'))
    let s:text = getline(s:lnum)
    if s:text =~# '^\a'
      let s:name = synIDattr(synID(s:lnum, 1, 1), 'name')
      if s:name !~# '^res\%(Declaration\|LineComment\|BlockComment\)$'
        call add(s:bad, printf('line %d starts with %s', s:lnum, s:name ==# '' ? '(none)' : s:name))
      endif
    endif
  endfor
  if v:errmsg !=# ''
    call add(s:bad, v:errmsg)
  endif
  if empty(s:bad)
    let s:passed += 1
  else
    call s:Fail(s:rel . ': ' . join(s:bad, '; '))
  endif
  bwipeout!
endfor

" ------------------------------------------------------------------------------------------------
call s:Say(printf('vim: %d passed, %d failed', s:passed, len(s:failures)))
if len(s:failures)
  cquit
endif
qall!
